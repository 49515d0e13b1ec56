import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMediaforge, tempDir } from '../support/cli.ts';

const FIXTURES = join(import.meta.dir, '../../packages/core/test/fixtures');
// A real loopback origin serving the fixture corpus by name; under /busy-once/ each file first answers 503.
const busy = new Set<string>();
const origin = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  async fetch(request) {
    let path = new URL(request.url).pathname;
    if (path.startsWith('/busy-once/')) {
      path = path.slice('/busy-once'.length);
      if (!busy.has(path)) {
        busy.add(path);
        return new Response('busy', { status: 503 });
      }
    }
    const file = Bun.file(join(FIXTURES, path.slice(1)));
    return (await file.exists()) ? new Response(file) : new Response('missing', { status: 404 });
  },
});
const at = (name: string) => `http://127.0.0.1:${origin.port}/${name}`;
afterAll(() => origin.stop(true));

describe('mediaforge ingest', () => {
  const env = { MEDIAFORGE_HOME: join(tempDir(), 'home') };

  test('loopback origins are refused unless --allow-private; exit 1 with the reason', async () => {
    const refused = await runMediaforge(['ingest', at('fixture.mp3')], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('URL_NOT_ALLOWED');
    expect(refused.stderr).toContain('loopback');
    // Not a terminal: plain progress lines, then the summary.
    expect(refused.stderr).toMatch(/^ingest: 1\/1, 1 failed/m);
    expect(refused.stderr).toContain('0 of 1 URL(s) stored');
  });

  test('stores good files, dedupes concurrent copies, reports failures by URL', async () => {
    const list = join(tempDir(), 'urls.txt');
    await Bun.write(list, `# a comment\n${at('fixture.jpg')}\n\n${at('negative/truncated.wav')}\n`);
    const result = await runMediaforge(
      [
        'ingest',
        at('fixture.mp3'),
        `${at('fixture.mp3')}?copy`,
        at('nope.mp3'),
        '--from-file',
        list,
        '--allow-private',
        '--user',
        'u1',
        '--json',
      ],
      { env },
    );
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.totalFiles).toBe(5);
    expect(report.processedFiles).toHaveLength(3);
    expect(report.failedFiles.map((f: { code: string }) => f.code).sort()).toEqual([
      'DOWNLOAD_HTTP_STATUS',
      'INTEGRITY_ERROR',
    ]);
    const mp3s = report.processedFiles.filter((f: { mediaType: string }) => f.mediaType === 'audio');
    expect(mp3s).toHaveLength(2);
    expect(new Set(mp3s.map((f: { storageKey: string }) => f.storageKey)).size).toBe(1);
    expect(mp3s.some((f: { duplicateOf?: string }) => f.duplicateOf)).toBe(true);
    const stored = await Bun.file(join(env.MEDIAFORGE_HOME, 'objects', mp3s[0].storageKey)).bytes();
    expect(new Bun.CryptoHasher('sha256').update(stored).digest('hex')).toBe(mp3s[0].sha256);
  });

  test('--no-compress keeps images exactly as downloaded; by default they are recompressed when smaller', async () => {
    const original = await Bun.file(join(FIXTURES, 'fixture.png')).bytes();
    const kept = await runMediaforge(['ingest', at('fixture.png'), '--allow-private', '--no-compress', '--json'], {
      env,
    });
    expect(kept.code).toBe(0);
    const [file] = JSON.parse(kept.stdout).processedFiles;
    expect(file).toMatchObject({ compressed: false, size: original.byteLength });
    expect(file.sha256).toBe(new Bun.CryptoHasher('sha256').update(original).digest('hex'));
  });

  test('LOG_LEVEL=debug logs each retry at warn and each file at info on stderr; --json stdout still parses', async () => {
    const result = await runMediaforge(['ingest', at('busy-once/fixture.wav'), '--allow-private', '--json'], {
      env: { ...env, LOG_LEVEL: 'debug' },
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).processedFiles).toHaveLength(1);
    // Not a terminal: pino's JSON lines (levels: 20 debug, 30 info, 40 warn).
    const lines = result.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line));
    expect(lines.find((line) => line.level === 40)).toMatchObject({
      url: at('busy-once/fixture.wav'),
      attempt: 1,
      waitMs: expect.any(Number),
      cause: expect.stringContaining('HTTP 503'),
    });
    expect(lines.find((line) => line.level === 30)).toMatchObject({
      msg: 'file stored',
      url: at('busy-once/fixture.wav'),
    });
    expect(lines.some((line) => line.level === 20)).toBe(true);
  });

  test('usage errors exit 2', async () => {
    expect((await runMediaforge(['ingest'], { env })).code).toBe(2);
    expect((await runMediaforge(['ingest', at('x'), '--quality', '0'], { env })).code).toBe(2);
    expect((await runMediaforge(['ingest', '--from-file', '/nonexistent/urls.txt'], { env })).code).toBe(2);
    const directory = await runMediaforge(['ingest', '--from-file', tmpdir()], { env });
    expect(directory.code).toBe(2);
    expect(directory.stderr).toContain('is a directory');
  });

  test('a URL list past MAX_BATCH_SIZE, too large, or with an overlong line is refused whole (exit 2) (attacker, session 17)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mediaforge-lists-'));
    const write = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    // 2,000,000 lines overflowed the stack (the lines were spread into one push); now the count stops at the limit.
    const many = await runMediaforge(
      ['ingest', '--from-file', write('many.txt', 'http://a.example/f\n'.repeat(2_000_000))],
      {
        env,
      },
    );
    expect(many.code).toBe(2);
    expect(many.stderr).toMatch(/more than a list of MAX_BATCH_SIZE \(1000\) URLs/);
    const over = await runMediaforge(
      ['ingest', '--from-file', write('over.txt', 'http://a.example/f\n'.repeat(1001))],
      {
        env,
      },
    );
    expect(over.code).toBe(2);
    expect(over.stderr).toContain('more than MAX_BATCH_SIZE (1000) URLs');
    // One line of 50,000 characters was taken as a URL (and echoed into the report and the log).
    const long = await runMediaforge(
      ['ingest', '--from-file', write('long.txt', `http://a.example/ok\nhttp://a.example/${'x'.repeat(50_000)}\n`)],
      { env },
    );
    expect(long.code).toBe(2);
    expect(long.stderr).toContain('line 2 is 50017 characters, over 8192');
    expect(long.stderr.length).toBeLessThan(2000);
  });

  test('--max-size may tighten MAX_FILE_SIZE_MB but never raise it', async () => {
    const over = await runMediaforge(['ingest', at('fixture.png'), '--allow-private', '--max-size', '1000'], {
      env: { ...env, MAX_FILE_SIZE_MB: '1' },
    });
    expect(over.code).toBe(2);
    expect(over.stderr).toContain('--max-size 1000 is above MAX_FILE_SIZE_MB (1)');
  });
});
