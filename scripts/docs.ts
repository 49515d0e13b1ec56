/**
 * Writes every generated page under docs/ (`bun run docs`). tests/docs/docs.test.ts renders them again and fails
 * when a file differs, so a page can never drift from the code it describes.
 */
import { join } from 'node:path';
import { renderDocs } from './docs/render.ts';

const root = join(import.meta.dir, '..');
for (const [path, text] of Object.entries(await renderDocs())) {
  await Bun.write(join(root, path), text);
  console.log(`wrote ${path}`);
}
