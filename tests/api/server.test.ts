// A real Bun.serve instance: a 500 MB upload streams through with flat memory, and SSE arrives over HTTP.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type StartedServer, startServer } from '@mediaforge/api';
import { ApiKeyStore, createLogger, type Database, loadSettings, openDatabase } from '@mediaforge/core';
import { createFileStore } from '@mediaforge/storage';

const UPLOAD_BYTES = 500 * 1024 * 1024;

let database: Database;
let server: StartedServer;
let key = '';
const home = mkdtempSync(join(tmpdir(), 'mediaforge-serve-'));

beforeAll(async () => {
  database = await openDatabase();
  await database.migrate();
  const settings = loadSettings({ env: { MEDIAFORGE_HOME: home, MAX_FILE_SIZE_MB: '600', LOG_LEVEL: 'silent' } });
  server = startServer({
    database,
    store: createFileStore({ root: join(home, 'objects') }),
    settings,
    logger: createLogger({ level: 'silent' }),
    port: 0,
    eventIntervalMs: 50,
  });
  key = (await new ApiKeyStore(database.db).create({ userId: 'streamer' })).key;
});
afterAll(async () => {
  await server.stop(true);
  await database.close();
});

const call = (path: string, init: RequestInit = {}) =>
  fetch(new URL(path, server.url), { ...init, headers: { authorization: `Bearer ${key}`, ...init.headers } });

/** Peak resident memory of a process so far (VmHWM), in MiB. */
const peakMiB = (pid: number) =>
  Number(/VmHWM:\s+(\d+)/.exec(require('node:fs').readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

test('uploads stream to storage with flat memory: 500 MB needs no more than 100 MB did, byte for byte', async () => {
  // The server runs as `mediaforge serve` in its own process, so its peak memory is its own.
  const serveHome = mkdtempSync(join(tmpdir(), 'mediaforge-serve-child-'));
  const env = { ...process.env, MEDIAFORGE_HOME: serveHome, MAX_FILE_SIZE_MB: '600', API_PORT: '0', LOG_LEVEL: 'warn' };
  const cli = join(import.meta.dir, '../../packages/cli/src/main.ts');
  const made = Bun.spawnSync(['bun', cli, 'keys', 'create', '--user', 'streamer'], { env });
  const childKey = made.stdout.toString().trim();
  const child = Bun.spawn(['bun', cli, 'serve', '--no-worker'], { env, stderr: 'pipe', stdout: 'ignore' });
  try {
    const reader = (child.stderr as ReadableStream<Uint8Array>)
      .pipeThrough(new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>)
      .getReader();
    let banner = '';
    while (!/API on (http:\/\/\S+)/.test(banner)) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`serve exited: ${banner}`);
      banner += value;
    }
    const base = (/API on (http:\/\/\S+)/.exec(banner) as RegExpExecArray)[1] as string;
    const auth = { authorization: `Bearer ${childKey}` };
    const upload = async (bytes: number) => {
      const created = await fetch(new URL('/v1/records', base), {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ mediaType: 'text' }),
      });
      const { uid } = (await created.json()) as { uid: string };
      // Valid UTF-8 text generated as it is sent, 1 MiB at a time.
      const line = new TextEncoder().encode('ఇది ఒక పరీక్ష వాక్యం — a streamed line of sample text.\n');
      const chunk = new Uint8Array(1024 * 1024);
      for (let offset = 0; offset + line.length <= chunk.length; offset += line.length) chunk.set(line, offset);
      chunk.fill(0x20, chunk.length - (chunk.length % line.length));
      const hash = createHash('sha256');
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= bytes) return controller.close();
          const piece = chunk.slice(0, Math.min(chunk.length, bytes - sent));
          hash.update(piece);
          sent += piece.length;
          controller.enqueue(piece);
        },
      });
      const response = await fetch(new URL(`/v1/records/${uid}/file`, base), {
        method: 'POST',
        headers: auth,
        body,
        duplex: 'half',
      } as RequestInit);
      expect(response.status).toBe(201);
      const result = (await response.json()) as { record: { fileSize: number; sha256: string; storageKey: string } };
      expect(result.record.fileSize).toBe(bytes);
      expect(result.record.sha256).toBe(hash.digest('hex'));
      expect(Bun.file(join(serveHome, 'objects', result.record.storageKey)).size).toBe(bytes);
      return peakMiB(child.pid);
    };
    const afterSmall = await upload(100 * 1024 * 1024);
    const afterLarge = await upload(UPLOAD_BYTES);
    // A server that held the body would need at least 400 MiB more for the larger upload.
    expect(afterLarge - afterSmall).toBeLessThan(150);
  } finally {
    child.kill('SIGTERM');
    await child.exited;
  }
}, 180_000);

test('Server-Sent Events arrive over HTTP as the task moves, and end with done', async () => {
  const { TaskManager } = await import('@mediaforge/core');
  const tasks = new TaskManager({ database, settings: loadSettings({ env: { MEDIAFORGE_HOME: home } }) });
  const taskId = await tasks.queue.enqueue({ kind: 'noop', payloads: [{}, {}], userId: 'streamer' });
  const response = await call(`/v1/tasks/${taskId}/events`);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const reader = (response.body as ReadableStream<Uint8Array>)
    .pipeThrough(new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>)
    .getReader();
  let text = '';
  const readUntil = async (marker: string) => {
    while (!text.includes(marker)) {
      const { done, value } = await reader.read();
      if (done) break;
      text += value;
    }
  };
  await readUntil('event: progress');
  expect(text).toContain('"status":"queued"');
  // Run the two items by hand, as a worker would, and watch the stream follow.
  const { Worker } = await import('@mediaforge/worker');
  const worker = new Worker({
    database,
    logger: createLogger({ level: 'silent' }),
    handlers: { noop: async () => ({}) },
    pollMs: 20,
    untilIdle: true,
  });
  await worker.start();
  await worker.stopped;
  await readUntil('event: done');
  expect(text).toMatch(/event: done\ndata: .*"status":"succeeded".*"percent":100/);
  const { done } = await reader.read();
  expect(done).toBe(true);
});
