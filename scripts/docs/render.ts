/** Every generated docs page, by its path in the repository, formatted as Biome formats Markdown. */
import { join } from 'node:path';
import { renderCli } from './cli.ts';
import { renderConfiguration } from './configuration.ts';
import { renderHttpApi } from './http-api.ts';
import { renderMediaFormats } from './media-formats.ts';

const root = join(import.meta.dir, '../..');

/** Biome lints the repository's Markdown too (tables padded); a generated page must already be in that form. */
async function biomeFormat(path: string, text: string): Promise<string> {
  const biome = Bun.spawn([join(root, 'node_modules/.bin/biome'), 'format', `--stdin-file-path=${path}`], {
    cwd: root,
    stdin: new Blob([text]),
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const [out, err, code] = await Promise.all([
    new Response(biome.stdout).text(),
    new Response(biome.stderr).text(),
    biome.exited,
  ]);
  if (code !== 0) throw new Error(`biome format ${path} failed (${code}): ${err}`);
  return out;
}

export async function renderDocs(): Promise<Record<string, string>> {
  const pages: Record<string, string> = {
    'docs/cli.md': await renderCli(),
    'docs/configuration.md': renderConfiguration(),
    'docs/http-api.md': await renderHttpApi(),
    'docs/media-formats.md': renderMediaFormats(),
  };
  const formatted = await Promise.all(
    Object.entries(pages).map(async ([path, text]) => [path, await biomeFormat(path, text)] as const),
  );
  return Object.fromEntries(formatted);
}
