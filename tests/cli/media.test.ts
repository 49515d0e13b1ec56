/** `mediaforge ingest --allowed-types/--header-file`, `records list --min-…`, `records show`, `generations show`. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMediaforge, tempDir } from '../support/cli.ts';

const FIXTURES = join(import.meta.dir, '../../packages/core/test/fixtures');
const SECRET = 'Bearer cli-secret-value';
const origin = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch(request) {
    if (request.headers.get('authorization') !== SECRET) return new Response('unauthorized', { status: 401 });
    return new Response(Bun.file(join(FIXTURES, new URL(request.url).pathname.slice(1))).stream());
  },
});
const at = (name: string) => `http://127.0.0.1:${origin.port}/${name}`;
afterAll(() => origin.stop(true));

let env: Record<string, string> = {};
let headerFile = '';
beforeAll(() => {
  const dir = tempDir();
  env = { MEDIAFORGE_HOME: join(dir, 'home') };
  headerFile = join(dir, 'headers.txt');
  writeFileSync(headerFile, `# credentials for the origin\nAuthorization: ${SECRET}\n`);
});

test('ingest with a type filter and headers from a file; list by dimensions and duration; the generation view', async () => {
  const ingest = await runMediaforge(
    [
      ...['ingest', at('fixture-av.mp4'), at('fixture.mp3'), '--allowed-types', 'video,image/png'],
      ...['--header-file', headerFile, '--generation', 'gen-cli', '--allow-private', '--json'],
    ],
    { env },
  );
  expect(ingest.code).toBe(1);
  const result = JSON.parse(ingest.stdout);
  expect(result.processedFiles).toHaveLength(1);
  expect(result.failedFiles.map((f: { code: string }) => f.code)).toEqual(['FILE_TYPE_NOT_ALLOWED']);
  expect(`${ingest.stdout}${ingest.stderr}`).not.toContain('cli-secret');
  const uid = result.processedFiles[0].recordUid;

  const wide = JSON.parse((await runMediaforge(['records', 'list', '--min-width', '90', '--json'], { env })).stdout);
  expect(wide.items.map((r: { uid: string }) => r.uid)).toEqual([uid]);
  expect(wide.items[0]).toMatchObject({ width: 96, height: 64, durationSeconds: 1, originalName: 'fixture-av.mp4' });
  const none = JSON.parse((await runMediaforge(['records', 'list', '--min-duration', '2', '--json'], { env })).stdout);
  expect(none.items).toEqual([]);
  const table = await runMediaforge(['records', 'list', '--max-height', '64'], { env });
  expect(table.stdout.split('\n')[0]).toMatch(/MEDIA\s+KEY\s+NAME/);
  expect(table.stdout).toContain('96×64 10fps 1.0s');
  const reversed = await runMediaforge(['records', 'list', '--min-duration', '5', '--max-duration', '1'], { env });
  expect(reversed.code).toBe(1);
  expect(reversed.stderr).toContain('VALIDATION_ERROR');
  const negative = await runMediaforge(['records', 'list', '--min-width', '-3'], { env });
  expect(negative.code).toBe(2);

  const shown = await runMediaforge(['records', 'show', uid], { env });
  expect(shown.stdout).toMatch(/originalName\s+fixture-av\.mp4/);
  expect(shown.stdout).toMatch(/mediaInfo\s+\{.*"frameRate":10/);

  const reprobed = await runMediaforge(['records', 'reprobe', '--type', 'video', '--json'], { env });
  expect(reprobed.code).toBe(0);
  expect(JSON.parse(reprobed.stdout)).toEqual({ checked: 1, updated: 1, failed: [] });

  const generation = await runMediaforge(['generations', 'show', 'gen-cli'], { env });
  expect(generation.code).toBe(0);
  expect(generation.stdout).toContain('generation gen-cli: 1 record(s) — 1 uploaded');
  const json = JSON.parse((await runMediaforge(['generations', 'show', 'gen-cli', '--json'], { env })).stdout);
  expect(json.media.map((r: { uid: string }) => r.uid)).toEqual([uid]);
  const missing = await runMediaforge(['generations', 'show', 'gen-none'], { env });
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('GENERATION_NOT_FOUND');
}, 120_000);

test('refused headers and unknown types fail before any download, without echoing values', async () => {
  const host = await runMediaforge(['ingest', at('fixture.png'), '--header', 'Host: internal', '--allow-private'], {
    env,
  });
  expect(host.code).toBe(2);
  expect(host.stderr).toContain('INVALID_HEADERS');
  // Every --header counts, not only the last: the second one here is refused.
  const repeated = await runMediaforge(
    ['ingest', at('fixture.png'), '--header', `Authorization: ${SECRET}`, '--header=Connection: close'],
    { env },
  );
  expect(repeated.code).toBe(2);
  expect(repeated.stderr).toContain('Header "connection"');
  const bad = await runMediaforge(['ingest', at('fixture.png'), '--header', 'no-colon-secret-value'], { env });
  expect(bad.code).toBe(2);
  expect(bad.stderr).not.toContain('secret-value');
  const types = await runMediaforge(['ingest', at('fixture.png'), '--allowed-types', 'documents'], { env });
  expect(types.code).toBe(1);
  expect(types.stderr).toContain('VALIDATION_ERROR');
}, 60_000);
