/**
 * Hostile input through the library and the CLI: mutation fuzzing of the fixture corpus (thousands of iterations in
 * a child process bounded in time and memory), SSRF through the downloader with a resolver stub (names resolving to
 * private addresses, redirects from an allowed host to metadata and loopback targets), every SSRF URL form through
 * `processUrl` (nothing written), and malformed CLI invocations.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Database,
  downloadFile,
  FileProcessingError,
  loadSettings,
  openDatabase,
  processUrl,
  rows,
} from '@mediaforge/core';
import { SSRF_URL_FORMS } from '@mediaforge/core/testing';
import { createFileStore, type ObjectStore } from '@mediaforge/storage';
import { sql } from 'drizzle-orm';
import { runMediaforge } from '../tests/support/cli.ts';
import { CaseBook } from './lib/cases.ts';
import { FULL, saveResults } from './lib/scale.ts';

const FUZZ_ITERATIONS = FULL ? 20_000 : 2_000;
/** A child that reports no progress for this long is hung: the watchdog kills it and the test fails. */
const STALL_MS = 30_000;
const FUZZ_RSS_LIMIT_MIB = 1024;
const book = new CaseBook();
let home = '';
let database: Database;
let store: ObjectStore;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'mediaforge-chaos-lib-'));
  database = await openDatabase();
  await database.migrate();
  store = createFileStore({ root: join(home, 'objects') });
});
afterAll(async () => {
  await database?.close();
  if (home) rmSync(home, { recursive: true, force: true });
}, 60_000);

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    const result = await promise;
    // A download that started: read its body so a refusal during redirects or reads surfaces.
    const stream = (result as { stream?: ReadableStream }).stream;
    if (stream) await new Response(stream).arrayBuffer();
    return 'accepted';
  } catch (error) {
    return error instanceof FileProcessingError ? error.code : `untyped: ${String(error)}`;
  }
}

test(`mutation fuzzing: ${FUZZ_ITERATIONS} mutated fixtures and bombs, plus every bomb whole, each outcome typed, within 1 s per MB`, async () => {
  const child = Bun.spawn(
    [
      process.execPath,
      join(import.meta.dir, 'fuzz.child.ts'),
      String(FUZZ_ITERATIONS),
      '20261121',
      home,
      FULL ? '16,1024,4096' : '16,1024',
    ],
    { stdout: 'pipe', stderr: 'pipe' },
  );
  let lastProgress = Date.now();
  let hung = false;
  const watchdog = setInterval(() => {
    if (Date.now() - lastProgress > STALL_MS) {
      hung = true;
      child.kill('SIGKILL');
    }
  }, 1000);
  const progress = (async () => {
    for await (const _ of child.stderr) lastProgress = Date.now();
  })();
  const [out] = await Promise.all([new Response(child.stdout).text(), progress, child.exited]);
  clearInterval(watchdog);
  expect(hung).toBe(false);
  const summary = JSON.parse(out) as {
    iterations: number;
    outcomes: Record<string, number>;
    crashes: unknown[];
    slowestMs: number;
    slowestPerMb: { input: string; bytes: number; ms: number; msPerMb: number };
    overBudget: unknown[];
    bombs: number;
    peakRssMiB: number;
  };
  await saveResults('fuzz', summary);
  expect(summary.crashes).toEqual([]);
  expect(summary.outcomes.CRASH ?? 0).toBe(0);
  // Every mutation and every structure-aware bomb got an outcome, each within 1 s per MB (1 s when small).
  expect(summary.bombs).toBeGreaterThan(0);
  expect(Object.values(summary.outcomes).reduce((a, b) => a + b, 0)).toBe(FUZZ_ITERATIONS + summary.bombs);
  expect(summary.overBudget).toEqual([]);
  // Refusals dominate and both kinds of refusal occur: the mutations reach past detection into validation.
  expect(summary.outcomes.INTEGRITY_ERROR ?? 0).toBeGreaterThan(FUZZ_ITERATIONS / 4);
  expect(summary.outcomes.FILE_TYPE_NOT_SUPPORTED ?? 0).toBeGreaterThan(0);
  expect(summary.slowestMs).toBeLessThan(STALL_MS);
  expect(summary.peakRssMiB).toBeLessThan(FUZZ_RSS_LIMIT_MIB);
}, 600_000);

test('SSRF through the downloader: names resolving to private addresses, and redirects to them', async () => {
  const resolveTable: Record<string, string[]> = {
    'loopback.example': ['127.0.0.1'],
    'ten.example': ['10.1.2.3'],
    'corp.example': ['172.16.0.1'],
    'home.example': ['192.168.0.1'],
    'metadata.example': ['169.254.169.254'],
    'cgnat.example': ['100.64.0.1'],
    'zero.example': ['0.0.0.0'],
    'v6loop.example': ['::1'],
    'ula.example': ['fd00::1'],
    'linklocal6.example': ['fe80::1'],
    'mapped.example': ['::ffff:127.0.0.1'],
    'nat64.example': ['64:ff9b::a9fe:a9fe'],
    'rebind.example': ['93.184.216.34', '10.0.0.5'],
  };
  // The "public" origin is a loopback server reached through a name allowed explicitly, as a trusted host would be.
  const origin = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: (request) => {
      const target = new URL(request.url).searchParams.get('to') ?? '/';
      return new Response(null, { status: 302, headers: { location: target } });
    },
  });
  const resolve = async (host: string) =>
    (host === 'public.example' ? ['127.0.0.1'] : (resolveTable[host] ?? ['93.184.216.34'])).map((address) => ({
      address,
      family: address.includes(':') ? 6 : 4,
    }));
  const policy = { resolve, allowHosts: ['public.example'] };
  try {
    for (const host of Object.keys(resolveTable)) {
      const got = await codeOf(downloadFile(`http://${host}/a.mp3`, { policy, retries: 0 }));
      book.record({ surface: 'library', category: 'SSRF (DNS)', name: host, expected: 'URL_NOT_ALLOWED', got });
    }
    for (const to of [
      'http://169.254.169.254/latest/meta-data/',
      `http://127.0.0.1:${origin.port}/`,
      'http://[::ffff:7f00:1]/',
      'http://0x7f000001/',
      'http://ten.example/',
      'http://metadata.example/computeMetadata/v1/',
      'file:///etc/passwd',
      'gopher://127.0.0.1:6379/_INFO',
    ]) {
      const url = `http://public.example:${origin.port}/redirect?to=${encodeURIComponent(to)}`;
      const got = await codeOf(downloadFile(url, { policy, retries: 0 }));
      book.record({ surface: 'library', category: 'SSRF (redirect)', name: to, expected: 'URL_NOT_ALLOWED', got });
    }
  } finally {
    origin.stop(true);
  }
});

test(`every SSRF URL form (${SSRF_URL_FORMS.length}) is refused by processUrl and nothing is written`, async () => {
  const settings = loadSettings({ env: { MEDIAFORGE_HOME: home } });
  for (const url of SSRF_URL_FORMS) {
    const got = await codeOf(processUrl(url, { db: database.db, store, settings }));
    book.record({
      surface: 'library',
      category: 'SSRF (URL form)',
      name: url,
      expected: 'URL_NOT_ALLOWED',
      got: ['URL_NOT_ALLOWED', 'INVALID_URL'].includes(got) ? 'URL_NOT_ALLOWED' : got,
    });
  }
  const [count] = await rows<{ n: number }>(database.db, sql`select count(*)::int as n from records`);
  expect(count?.n).toBe(0);
  expect((await store.list('')).items).toEqual([]);
});

test('malformed CLI invocations: one clear error line, a non-zero exit, nothing written', async () => {
  const env = { MEDIAFORGE_HOME: join(home, 'cli') };
  const cases: [string, string[], number, RegExp][] = [
    ['ingest a metadata address', ['ingest', 'http://169.254.169.254/latest/meta-data/'], 1, /URL_NOT_ALLOWED/],
    ['ingest with credentials in the URL', ['ingest', 'http://user:hunter2@10.0.0.1/a.mp3'], 1, /URL_NOT_ALLOWED/],
    ['ingest a file: URL', ['ingest', 'file:///etc/passwd'], 1, /URL_NOT_ALLOWED|INVALID_URL/],
    ['records show with a traversal', ['records', 'show', '../../etc/passwd'], 2, /INVALID_UID/],
    ['generate with SQL for a uid', ['generate', 'single', '--uid', "'; drop table records; --"], 1, /INVALID_UID/],
    ['records create with an unknown type', ['records', 'create', '--type', 'hologram'], 2, /type/i],
    ['generate with a negative size', ['generate', 'auto', '--size', '-5'], 2, /size/i],
    [
      'ingest from a missing list',
      ['ingest', '--from-file', '/nonexistent/urls.txt'],
      2,
      /nonexistent|not found|ENOENT/i,
    ],
  ];
  for (const [name, args, exit, pattern] of cases) {
    const result = await runMediaforge(args, { env });
    const ok = result.code === exit && pattern.test(result.stderr) && !result.stderr.includes('hunter2');
    book.record({
      surface: 'CLI',
      category: 'malformed CLI input',
      name,
      expected: `exit ${exit}`,
      got: ok ? `exit ${exit}` : `exit ${result.code}: ${result.stderr.trim().slice(0, 200)}`,
    });
  }
  const listed = await runMediaforge(['records', 'list', '--json'], { env });
  expect(JSON.parse(listed.stdout).items).toEqual([]);
}, 120_000);

test('the library and CLI answered every case as expected', async () => {
  await saveResults('hostile-lib', { ...book.summary(), mismatches: book.mismatches(), cases: book.results });
  expect(book.mismatches()).toEqual([]);
  expect(book.results.filter((r) => r.category.startsWith('SSRF')).length).toBeGreaterThanOrEqual(30);
});
