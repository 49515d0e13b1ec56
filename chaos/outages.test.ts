/**
 * Outages seen through the HTTP API: with the object store refusing connections or answering 500/503, and with the
 * database stopped, requests get a typed 5xx a client can act on (503 = try again), `/ready` says which dependency
 * is down, `/health` stays up, and everything works again once the dependency is back, with nothing half-written.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type StartedServer, startServer } from '@mediaforge/api';
import { ApiKeyStore, createLogger, type Database, loadSettings, openDatabase } from '@mediaforge/core';
import { openObjectStore } from '@mediaforge/storage';
import { startS3Server, type TestS3Server } from '@mediaforge/storage/testing';
import { apiCall } from './lib/api.ts';
import { CaseBook } from './lib/cases.ts';
import { settle } from './lib/net.ts';
import { type DedicatedPostgres, startDedicatedPostgres } from './lib/postgres.ts';
import { type S3FaultProxy, startS3FaultProxy } from './lib/s3-proxy.ts';
import { saveResults } from './lib/scale.ts';

const FIXTURE_WAV = readFileSync(join(import.meta.dir, '../packages/core/test/fixtures/fixture.wav'));
let variant = 0;
/** The fixture with its last sample changed: new content each time, so no upload is a dedupe hit. */
function uniqueWav(): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(FIXTURE_WAV.byteLength);
  bytes.set(FIXTURE_WAV);
  variant += 1;
  bytes[bytes.length - 1] = variant & 0xff;
  bytes[bytes.length - 2] = (variant >> 8) & 0xff;
  return bytes;
}
const book = new CaseBook();
let home = '';
let pg: DedicatedPostgres;
let s3: TestS3Server;
let proxy: S3FaultProxy;
let database: Database;
let server: StartedServer;
let key = '';

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'mediaforge-chaos-outage-'));
  pg = await startDedicatedPostgres();
  s3 = await startS3Server({ bucket: 'outage' });
  proxy = await startS3FaultProxy(s3.endpoint, { seed: 3, faultRate: 0 });
  const settings = loadSettings({
    env: { ...s3.env, S3_ENDPOINT: proxy.endpoint, MEDIAFORGE_HOME: home, DATABASE_URL: pg.url },
  });
  database = await openDatabase({ url: pg.url });
  await database.migrate();
  server = startServer({
    database,
    store: openObjectStore(settings),
    settings,
    logger: createLogger({ level: process.env.CHAOS_LOG_LEVEL === 'info' ? 'error' : 'silent' }),
    port: 0,
  });
  key = (await new ApiKeyStore(database.db).create({ userId: 'ops' })).key;
}, 60_000);

afterAll(async () => {
  await settle('stop the API', server?.stop(true));
  await settle('close the database', database?.close());
  await settle('close the S3 proxy', proxy?.close());
  await settle('close s3rver', s3?.close());
  await settle('destroy PostgreSQL', pg?.destroy());
  if (home) rmSync(home, { recursive: true, force: true });
}, 60_000);

const call = (method: string, path: string, body?: BodyInit, json?: unknown) =>
  apiCall(server.url, method, path, {
    key,
    ...(json !== undefined ? { json } : {}),
    ...(body !== undefined ? { body, headers: { 'content-type': 'application/octet-stream' } } : {}),
  });

const newRecord = async () =>
  (JSON.parse((await call('POST', '/v1/records', undefined, { mediaType: 'audio' })).text) as { uid: string }).uid;

function expectOutcome(category: string, name: string, expected: string, got: { status: number; code: string }) {
  book.record({ surface: 'API', category, name, expected, got: `${got.status} ${got.code}`.trim() });
}

test('object store refusing connections: uploads are 503 STORAGE_TRANSIENT, then work; nothing half-written', async () => {
  const uid = await newRecord();
  const outage = proxy.outage(4000);
  await Bun.sleep(100);
  expectOutcome(
    'storage outage',
    'upload while connections are refused',
    '503 STORAGE_TRANSIENT',
    await call('POST', `/v1/records/${uid}/file`, uniqueWav()),
  );
  const ready = await fetch(new URL('/ready', server.url));
  expectOutcome('storage outage', '/ready while storage is down', '503', { status: ready.status, code: '' });
  expectOutcome('storage outage', '/health while storage is down', '200', {
    status: (await fetch(new URL('/health', server.url))).status,
    code: '',
  });
  const record = JSON.parse((await call('GET', `/v1/records/${uid}`)).text) as { storageKey: string | null };
  expect(record.storageKey).toBeNull();
  await outage;
  expectOutcome(
    'storage outage',
    'upload after the outage',
    '201',
    await call('POST', `/v1/records/${uid}/file`, uniqueWav()),
  );
}, 60_000);

test('object store answering 500 InternalError and 503 SlowDown on every request: a typed 5xx, never a hang', async () => {
  const uid = await newRecord();
  proxy.setFaultRate(1, ['500 InternalError', '503 SlowDown']);
  try {
    const { status, code } = await call('POST', `/v1/records/${uid}/file`, uniqueWav());
    const typed = (status === 502 || status === 503) && code.startsWith('STORAGE_');
    book.record({
      surface: 'API',
      category: 'storage errors',
      name: 'upload while every storage request fails',
      expected: 'typed 5xx',
      got: typed ? 'typed 5xx' : `${status} ${code}`,
    });
  } finally {
    proxy.setFaultRate(0);
  }
  expectOutcome(
    'storage errors',
    'upload once storage answers again',
    '201',
    await call('POST', `/v1/records/${uid}/file`, uniqueWav()),
  );
}, 60_000);

test('database stopped: reads and writes are 503 DATABASE_ERROR, /ready says so, and all is well after it starts', async () => {
  const uid = await newRecord();
  await pg.stop();
  try {
    expectOutcome('database outage', 'GET a record', '503 DATABASE_ERROR', await call('GET', `/v1/records/${uid}`));
    expectOutcome(
      'database outage',
      'create a record',
      '503 DATABASE_ERROR',
      await call('POST', '/v1/records', undefined, { mediaType: 'text' }),
    );
    const ready = await fetch(new URL('/ready', server.url));
    expectOutcome('database outage', '/ready', '503', { status: ready.status, code: '' });
    expectOutcome('database outage', '/health', '200', {
      status: (await fetch(new URL('/health', server.url))).status,
      code: '',
    });
  } finally {
    await pg.start();
  }
  expectOutcome('database outage', 'GET the record after the restart', '200', await call('GET', `/v1/records/${uid}`));
  expectOutcome(
    'database outage',
    'upload after the restart',
    '201',
    await call('POST', `/v1/records/${uid}/file`, uniqueWav()),
  );
}, 60_000);

test('every outage case got its typed status', async () => {
  await saveResults('outages', { ...book.summary(), mismatches: book.mismatches(), cases: book.results });
  expect(book.mismatches()).toEqual([]);
});
