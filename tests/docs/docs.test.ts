/** The generated reference pages under docs/ match the code they are generated from. */
import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { renderDocs } from '../../scripts/docs/render.ts';

const root = join(import.meta.dir, '../..');

describe('generated docs', async () => {
  const pages = await renderDocs();

  for (const [path, expected] of Object.entries(pages)) {
    test(`${path} is up to date`, async () => {
      const file = Bun.file(join(root, path));
      const actual = (await file.exists()) ? await file.text() : '';
      if (actual !== expected) {
        throw new Error(`${path} is stale: it no longer matches the code it is generated from. Run \`bun run docs\`.`);
      }
    });
  }

  test('generation is deterministic: no dates, no machine paths', async () => {
    expect(await renderDocs()).toEqual(pages);
    const today = new Date().toISOString().slice(0, 10);
    for (const [path, text] of Object.entries(pages)) {
      expect(text, path).not.toContain(root);
      expect(text, path).not.toContain(today);
    }
  });
});
