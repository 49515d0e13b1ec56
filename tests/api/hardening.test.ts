// Issue 18: what an attacker found against `mediaforge serve` on PostgreSQL, each checked through the app.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { createApp } from '@mediaforge/api';
import { createLogger, type Database, loadSettings, openDatabase, records, registerWorker } from '@mediaforge/core';
import { createTestPostgres, startTcpProxy, type TestPostgres } from '@mediaforge/core/testing';
import { createFileStore } from '@mediaforge/storage';
import { eq } from 'drizzle-orm';
import { tempDir } from '../support/cli.ts';
import { createTestApi, errorOf, type TestApi } from './support.ts';

let postgres: TestPostgres;
let database: Database;
let api: TestApi;
const METRICS_TOKEN = 'scraper-token-0123456789';

beforeAll(async () => {
  postgres = await createTestPostgres();
  database = await openDatabase({ url: postgres.url });
  await database.migrate();
  api = await createTestApi(database, {
    MAX_FILE_SIZE_MB: '1',
    METRICS_TOKEN,
    API_MAX_UPLOADS_PER_KEY: '1',
    API_MAX_UPLOADS: '2',
    API_MAX_DOWNLOADS_PER_KEY: '2',
    API_MAX_JSON_REQUESTS_PER_KEY: '2',
    API_MAX_ACTIVE_TASKS_PER_USER: '2',
    API_ALLOWED_QUEUES: 'bulk',
  });
});
afterAll(async () => {
  api.close();
  await database.close();
  await postgres.drop();
});

const createRecord = async (mediaType = 'text', as: 'alice' | 'admin' = 'alice') => {
  const response = await api.call('POST', '/v1/records', { as, json: { mediaType } });
  expect(response.status).toBe(201);
  return ((await response.json()) as { uid: string }).uid;
};

describe('limits only the operator raises', () => {
  test('a non-admin key may not raise maxSizeMb, priority or attempts past the server settings', async () => {
    const urls = ['https://example.com/a.png'];
    const big = await api.call('POST', '/v1/ingest', { json: { urls, options: { maxSizeMb: 1000 } } });
    expect(await errorOf(big)).toMatchObject({ status: 403, code: 'OPTION_NOT_ALLOWED' });
    // Any priority above the default would let one user's task cut ahead of everyone else's.
    for (const priority of [1000, 1]) {
      const urgent = await api.call('POST', '/v1/ingest', { json: { urls, priority } });
      expect(await errorOf(urgent)).toMatchObject({ status: 403, code: 'OPTION_NOT_ALLOWED' });
    }
    const stubborn = await api.call('POST', '/v1/ingest', { json: { urls, maxAttempts: 20 } });
    expect(await errorOf(stubborn)).toMatchObject({ status: 403, code: 'OPTION_NOT_ALLOWED' });
    // Tightening is fine, and an admin (the operator) may raise them.
    const tighter = await api.call('POST', '/v1/ingest', { json: { urls, options: { maxSizeMb: 0.5 }, priority: -5 } });
    expect(tighter.status).toBe(202);
    const admin = await api.call('POST', '/v1/ingest', {
      as: 'admin',
      json: { urls, options: { maxSizeMb: 1000 }, priority: 1000 },
    });
    expect(admin.status).toBe(202);
  });

  test('an unknown queue is refused unless a worker serves it or API_ALLOWED_QUEUES names it', async () => {
    const urls = ['https://example.com/a.png'];
    const unknown = await api.call('POST', '/v1/ingest', { as: 'admin', json: { urls, queue: 'nowhere' } });
    expect(await errorOf(unknown)).toMatchObject({ status: 422, code: 'UNKNOWN_QUEUE' });
    const generate = await api.call('POST', '/v1/generate', { as: 'admin', json: { auto: {}, queue: 'nowhere' } });
    expect(await errorOf(generate)).toMatchObject({ status: 422, code: 'UNKNOWN_QUEUE' });
    expect((await api.call('POST', '/v1/ingest', { as: 'admin', json: { urls, queue: 'bulk' } })).status).toBe(202);
    await registerWorker(database.db, { id: 'w-video', host: 'h', pid: 1, queues: ['video'], concurrency: 1 });
    expect((await api.call('POST', '/v1/ingest', { as: 'admin', json: { urls, queue: 'video' } })).status).toBe(202);
  });

  test('a user with API_MAX_ACTIVE_TASKS_PER_USER tasks in flight gets a 429 with Retry-After', async () => {
    // alice queued one task above; one more reaches the cap of 2.
    const urls = ['https://example.com/b.png'];
    expect((await api.call('POST', '/v1/ingest', { json: { urls } })).status).toBe(202);
    const over = await api.call('POST', '/v1/ingest', { json: { urls } });
    expect(await errorOf(over)).toMatchObject({ status: 429, code: 'CONCURRENCY_LIMITED' });
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('nothing leaks', () => {
  test('/metrics and /v1/workers need an admin key; /metrics also takes METRICS_TOKEN', async () => {
    expect(await errorOf(await api.call('GET', '/metrics'))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(await errorOf(await api.call('GET', '/v1/workers'))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect((await api.call('GET', '/metrics', { as: 'admin' })).status).toBe(200);
    expect((await api.call('GET', '/v1/workers', { as: 'admin' })).status).toBe(200);
    const scraper = await api.call('GET', '/metrics', {
      as: null,
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(scraper.status).toBe(200);
    expect(await scraper.text()).toContain('mediaforge_http_requests_total');
    const wrong = await api.call('GET', '/metrics', { as: null, headers: { authorization: 'Bearer not-the-token' } });
    expect(wrong.status).toBe(401);
  });

  test('records show no server path and no signed-URL query', async () => {
    const uid = await createRecord();
    const upload = await api.call('POST', `/v1/records/${uid}/file`, { body: 'plain text, stored on local disk\n' });
    expect(upload.status).toBe(201);
    await database.db
      .update(records)
      .set({ sourceUrl: 'https://u:p@cdn.example/a.txt?X-Amz-Signature=secret#frag' })
      .where(eq(records.uid, uid));
    const shown = await api.call('GET', `/v1/records/${uid}`);
    const text = await shown.text();
    expect(text).not.toContain('file://');
    expect(text).not.toContain(api.settings.home);
    expect(text).not.toContain('secret');
    const record = JSON.parse(text) as { fileUrl: string; sourceUrl: string };
    expect(record.fileUrl).toBe(`/v1/records/${uid}/file`);
    expect(record.sourceUrl).toBe('https://cdn.example/a.txt');
    const file = await api.call('GET', record.fileUrl);
    expect(file.status).toBe(200);
    await file.body?.cancel();
  });

  test('a database that is down: /ready and 503s carry no SQL, host or port', async () => {
    // The database is reached through a proxy that then goes away, as a restarting server would.
    const proxy = startTcpProxy(new URL(postgres.url));
    const url = new URL(postgres.url);
    url.port = String(proxy.port);
    const down = await openDatabase({ url: url.toString(), maxConnections: 2 });
    proxy.stop();
    const { app, close } = createApp({
      database: down,
      store: createFileStore({ root: join(tempDir(), 'objects') }),
      settings: loadSettings({ env: { MEDIAFORGE_HOME: tempDir(), LOG_LEVEL: 'silent' } }),
      logger: createLogger({ level: 'silent' }),
    });
    try {
      const ready = await app.request('/ready');
      expect(ready.status).toBe(503);
      const readyText = await ready.text();
      const records = await app.request('/v1/records', { headers: { authorization: `Bearer ${api.keys.alice}` } });
      expect(records.status).toBe(503);
      const body = (await records.json()) as { error: { code: string; requestId: string } };
      expect(body.error.code).toBe('DATABASE_ERROR');
      expect(body.error.requestId).toBeString();
      for (const text of [readyText, JSON.stringify(body)]) {
        expect(text).not.toMatch(new RegExp(`select|Failed query|127\\.0\\.0\\.1|${proxy.port}|ECONNREFUSED`, 'i'));
      }
    } finally {
      close();
      await down.close();
    }
  });
});

describe('untyped 500s', () => {
  test('dashboard assets are an own-property lookup', async () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const response = await api.call('GET', `/dashboard/assets/${name}`, { as: null });
      expect(await errorOf(response)).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    }
    expect((await api.call('GET', '/dashboard/assets/client.js', { as: null })).status).toBe(200);
  });

  test('JSON nested past the depth bound is a typed 400', async () => {
    const deep = `{"mediaType":"text","metadata":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`;
    const admin = await createTestApi(database, { API_MAX_JSON_KB: '1024' });
    const response = await admin.call('POST', '/v1/records', {
      body: deep,
      headers: { 'content-type': 'application/json' },
    });
    expect(await errorOf(response)).toMatchObject({ status: 400, code: 'JSON_TOO_DEEP' });
    const fine = await admin.call('POST', '/v1/records', { json: { mediaType: 'text', metadata: { a: { b: [1] } } } });
    expect(fine.status).toBe(201);
    admin.close();
  });

  test("a record's metadata over 16 KiB of JSON is a typed 400, and no record is made (lists stay bounded)", async () => {
    const before = await api.call('GET', '/v1/records?limit=1000');
    const count = ((await before.json()) as { items: unknown[] }).items.length;
    // Multi-byte text counts by its UTF-8 bytes: 6,000 Telugu letters are 18,000 bytes.
    for (const metadata of [{ notes: 'x'.repeat(17_000) }, { notes: 'త'.repeat(6_000) }]) {
      const refused = await api.call('POST', '/v1/records', { json: { mediaType: 'text', metadata } });
      expect(await errorOf(refused)).toMatchObject({ status: 400 });
    }
    const batch = { records: [{ mediaType: 'text' }, { mediaType: 'text', metadata: { n: 'y'.repeat(20_000) } }] };
    expect((await api.call('POST', '/v1/records', { json: batch })).status).toBe(400);
    const after = await api.call('GET', '/v1/records?limit=1000');
    expect(((await after.json()) as { items: unknown[] }).items.length).toBe(count);
    const fits = await api.call('POST', '/v1/records', {
      json: { mediaType: 'text', metadata: { n: 'z'.repeat(16_000) } },
    });
    expect(fits.status).toBe(201);
  });
});

describe('ranges, sizes and per-key uploads', () => {
  test('unknown units and multiple ranges are ignored; an unsatisfiable range names the size', async () => {
    const uid = await createRecord();
    const content = 'ranges are served per RFC 9110\n';
    expect((await api.call('POST', `/v1/records/${uid}/file`, { body: content })).status).toBe(201);
    for (const range of ['items=0-3', 'bytes=0-1,4-5', 'bytes=abc']) {
      const response = await api.call('GET', `/v1/records/${uid}/file`, { headers: { range } });
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(content);
    }
    const partial = await api.call('GET', `/v1/records/${uid}/file`, { headers: { range: 'bytes=0-5' } });
    expect(partial.status).toBe(206);
    const outside = await api.call('GET', `/v1/records/${uid}/file`, { headers: { range: 'bytes=9999-' } });
    expect(outside.status).toBe(416);
    expect(outside.headers.get('content-range')).toBe(`bytes */${content.length}`);
    expect((await errorOf(outside)).code).toBe('RANGE_NOT_SATISFIABLE');
  });

  test('an upload just over the limit says so in exact bytes', async () => {
    const uid = await createRecord();
    const body = new Uint8Array(1024 * 1024 + 1).fill(0x61);
    const response = await api.call('POST', `/v1/records/${uid}/file`, { body });
    const error = await errorOf(response);
    expect(error).toMatchObject({ status: 413, code: 'FILE_SIZE_EXCEEDED' });
    expect(error.message).toContain('1048577 bytes');
    expect(error.message).toContain('1048576 bytes');
  });

  test('a key streaming API_MAX_UPLOADS_PER_KEY uploads gets a 429 for one more upload or synchronous generate', async () => {
    const [first, second, third] = [await createRecord(), await createRecord(), await createRecord()];
    let release: () => void = () => {};
    const held = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('a slow upload '));
        release = () => {
          controller.enqueue(new TextEncoder().encode('finally ends\n'));
          controller.close();
        };
      },
    });
    const slow = api.call('POST', `/v1/records/${first}/file`, { body: held });
    await Bun.sleep(200);
    const another = await api.call('POST', `/v1/records/${second}/file`, { body: 'second\n' });
    expect(await errorOf(another)).toMatchObject({ status: 429, code: 'CONCURRENCY_LIMITED' });
    expect(another.headers.get('retry-after')).toBeString();
    // Generating synthesizes, validates and stores a file as an upload does: the same per-key limit holds.
    const generate = await api.call('POST', `/v1/records/${third}/generate`, { json: { fileSizeKb: 1 } });
    expect(await errorOf(generate)).toMatchObject({ status: 429, code: 'CONCURRENCY_LIMITED' });
    expect(generate.headers.get('retry-after')).toBeString();
    release();
    expect((await slow).status).toBe(201);
    expect((await api.call('POST', `/v1/records/${second}/file`, { body: 'second\n' })).status).toBe(201);
    expect((await api.call('POST', `/v1/records/${third}/generate`, { json: { fileSizeKb: 1 } })).status).toBe(200);
  });

  test('a key being sent API_MAX_DOWNLOADS_PER_KEY files gets a 429 for one more, until one is read or dropped', async () => {
    // Bob's: the other tests here leave alice's file bodies unread, each holding one of her slots (as only a client
    // inside the process can; a server sends or cancels every body).
    const made = await api.call('POST', '/v1/records', { as: 'bob', json: { mediaType: 'text' } });
    const { uid } = (await made.json()) as { uid: string };
    const stored = await api.call('POST', `/v1/records/${uid}/file`, { as: 'bob', body: 'a file to send\n' });
    expect(stored.status).toBe(201);
    const get = (as: 'bob' | 'admin' = 'bob', path = 'file') => api.call('GET', `/v1/records/${uid}/${path}`, { as });
    // Bodies not read yet: each holds its slot (and its open file) until its last byte is sent or it is cancelled.
    const held = [await get(), await get()];
    expect(held.map((response) => response.status)).toEqual([200, 200]);
    const refused = await get();
    expect(await errorOf(refused)).toMatchObject({ status: 429, code: 'CONCURRENCY_LIMITED' });
    expect(refused.headers.get('retry-after')).toBeString();
    expect(await errorOf(await get('bob', 'thumbnail'))).toMatchObject({ status: 429 });
    // Another key has its own; a client that leaves gives its slot back, and so does one that reads to the end.
    const admins = await get('admin');
    expect(admins.status).toBe(200);
    await admins.body?.cancel();
    await held[0]?.body?.cancel();
    const again = await get();
    expect(await again.text()).toBe('a file to send\n');
    expect(await held[1]?.text()).toBe('a file to send\n');
    const last = await Promise.all([get(), get()]);
    expect(last.map((response) => response.status)).toEqual([200, 200]);
    for (const response of last) await response.body?.cancel();
  });

  test('a key with API_MAX_JSON_REQUESTS_PER_KEY JSON bodies in flight gets a 429 for one more, until one is answered', async () => {
    // Bodies still arriving: each request holds its slot until it is answered.
    const enders: (() => void)[] = [];
    const slowJson = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"mediaType":'));
          enders.push(() => {
            controller.enqueue(new TextEncoder().encode('"text"}'));
            controller.close();
          });
        },
      });
    const post = (body: BodyInit, as: 'bob' | 'admin' = 'bob') =>
      api.call('POST', '/v1/records', { as, body, headers: { 'content-type': 'application/json' } });
    const held = [post(slowJson()), post(slowJson())];
    await Bun.sleep(20);
    const refused = await post(JSON.stringify({ mediaType: 'text' }));
    expect(await errorOf(refused)).toMatchObject({ status: 429, code: 'CONCURRENCY_LIMITED' });
    expect(refused.headers.get('retry-after')).toBeString();
    // Another key has its own slots, and reads are not counted.
    expect((await post(JSON.stringify({ mediaType: 'text' }), 'admin')).status).toBe(201);
    expect((await api.call('GET', '/v1/records?limit=1', { as: 'bob' })).status).toBe(200);
    for (const end of enders) end();
    expect((await Promise.all(held)).map((response) => response.status)).toEqual([201, 201]);
    expect((await post(JSON.stringify({ mediaType: 'text' }))).status).toBe(201);
  });

  test('past API_MAX_UPLOADS in the whole process, any key gets 503 SERVER_BUSY until one ends', async () => {
    const held = (as: 'alice' | 'admin') => {
      let release: () => void = () => {};
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(`held by ${as} `));
          release = () => {
            controller.enqueue(new TextEncoder().encode('and ended\n'));
            controller.close();
          };
        },
      });
      return { body, release: () => release() };
    };
    const a = held('alice');
    const b = held('admin');
    const uploads = [
      api.call('POST', `/v1/records/${await createRecord()}/file`, { body: a.body }),
      api.call('POST', `/v1/records/${await createRecord('text', 'admin')}/file`, { as: 'admin', body: b.body }),
    ];
    const bobs = await api.call('POST', '/v1/records', { as: 'bob', json: { mediaType: 'text' } });
    const { uid } = (await bobs.json()) as { uid: string };
    let busy = await api.call('POST', `/v1/records/${uid}/file`, { as: 'bob', body: 'bob\n' });
    for (let i = 0; i < 40 && busy.status !== 503; i++) {
      await Bun.sleep(25);
      busy = await api.call('POST', `/v1/records/${uid}/file`, { as: 'bob', body: 'bob\n' });
    }
    expect(await errorOf(busy)).toMatchObject({ status: 503, code: 'SERVER_BUSY' });
    expect(Number(busy.headers.get('retry-after'))).toBeGreaterThan(0);
    // Nothing was stored for the refused upload, and one ending frees a place for anyone.
    expect(
      ((await (await api.call('GET', `/v1/records/${uid}`, { as: 'bob' })).json()) as { status: string }).status,
    ).toBe('pending');
    a.release();
    expect((await uploads[0])?.status).toBe(201);
    expect((await api.call('POST', `/v1/records/${uid}/file`, { as: 'bob', body: 'bob\n' })).status).toBe(201);
    b.release();
    expect((await uploads[1])?.status).toBe(201);
  });
});
