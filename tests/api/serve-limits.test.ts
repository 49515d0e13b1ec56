// A real server on loopback against stalled and slow clients (raw sockets): they are dropped, others are served.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { existsSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { type StartedServer, startServer } from '@mediaforge/api';
import { ApiKeyStore, createLogger, type Database, loadSettings, openDatabase } from '@mediaforge/core';
import { createTestPostgres, type TestPostgres } from '@mediaforge/core/testing';
import { createFileStore } from '@mediaforge/storage';
import { tempDir } from '../support/cli.ts';

const ANONYMOUS_CAP = 20;
const logLines: string[] = [];
let postgres: TestPostgres;
let database: Database;
let server: StartedServer;
let key = '';
let home = '';

beforeAll(async () => {
  postgres = await createTestPostgres();
  database = await openDatabase({ url: postgres.url });
  await database.migrate();
  home = tempDir();
  const settings = loadSettings({
    env: {
      MEDIAFORGE_HOME: home,
      LOG_LEVEL: 'silent',
      MAX_FILE_SIZE_MB: '1',
      API_IDLE_TIMEOUT_SECONDS: '2',
      API_BODY_TIMEOUT_SECONDS: '2',
      API_MAX_ANONYMOUS_REQUESTS: String(ANONYMOUS_CAP),
    },
  });
  server = startServer({
    database,
    store: createFileStore({ root: join(home, 'objects') }),
    settings,
    logger: createLogger({
      level: 'info',
      destination: { write: (line: string) => logLines.push(line) > 0 } as unknown as NodeJS.WritableStream,
    }),
    port: 0,
  });
  key = (await new ApiKeyStore(database.db).create({ userId: 'slow' })).key;
});
afterAll(async () => {
  await server.stop(true);
  await database.close();
  await postgres.drop();
});

/** One line of a slow upload: written every 700 ms, ~34 bytes a second, under API_BODY_MIN_SPEED_KBPS. */
const TRICKLE_LINE = 'a line of a slow upload\n';

/** Writes TRICKLE_LINE every 700 ms, at most `lines` times, until the server answers. */
async function trickleUntilAnswered(client: RawClient, lines: number): Promise<void> {
  for (let i = 0; i < lines && !client.received().includes('\r\n\r\n{'); i++) {
    client.socket.write(TRICKLE_LINE);
    await Bun.sleep(700);
  }
}

/** A new text record of the test's key; its uid. */
async function createTextRecord(): Promise<string> {
  const created = await fetch(new URL('/v1/records', server.url), {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ mediaType: 'text' }),
  });
  return ((await created.json()) as { uid: string }).uid;
}

interface RawClient {
  socket: net.Socket;
  received: () => string;
  closed: Promise<number>;
}

/** A socket that sends `head` and then whatever the test writes; `closed` resolves with the ms it stayed open. */
function rawClient(head: string, localAddress = '127.0.0.1'): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const opened = Date.now();
    let text = '';
    const socket = net.connect({ port: Number(server.url.port), host: '127.0.0.1', localAddress }, () => {
      socket.write(head);
      resolve({ socket, received: () => text, closed });
    });
    const closed = new Promise<number>((done) => socket.on('close', () => done(Date.now() - opened)));
    socket.on('data', (chunk) => {
      text += chunk.toString();
    });
    socket.on('error', reject);
  });
}

const stalledSession =
  'POST /session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n';

test('stalled bodies cannot hold the server: over the anonymous cap they get a 503, the rest are dropped', async () => {
  const clients = await Promise.all(Array.from({ length: 80 }, () => rawClient(stalledSession)));
  await Bun.sleep(300);
  const begun = performance.now();
  const health = await fetch(new URL('/health', server.url));
  expect(health.status).toBe(200);
  expect(performance.now() - begun).toBeLessThan(1000);
  const busy = clients.filter((client) => client.received().startsWith('HTTP/1.1 503'));
  expect(busy.length).toBeGreaterThanOrEqual(80 - ANONYMOUS_CAP);
  const body = busy[0]?.received().split('\r\n\r\n')[1] ?? '';
  expect(JSON.parse(body)).toMatchObject({ error: { code: 'SERVER_BUSY', requestId: expect.any(String) } });
  // The stalled ones inside the cap are closed after the idle or body timeout, not held forever.
  const lifetimes = await Promise.all(clients.map((client) => client.closed));
  expect(Math.max(...lifetimes)).toBeLessThan(10_000);
  // And the cap is free again.
  const signIn = await fetch(new URL('/session', server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key }),
  });
  expect(signIn.status).toBe(200);
}, 30_000);

test('one address trickling sign-ins holds at most 8 anonymous slots: a sign-in from another address gets in', async () => {
  // The attack: bodies that keep sending a byte at a time, from one client, to take every anonymous slot.
  const trickling = await Promise.all(Array.from({ length: 30 }, () => rawClient(stalledSession, '127.0.0.1')));
  const drip = setInterval(() => {
    for (const client of trickling) if (!client.socket.destroyed) client.socket.write(' ');
  }, 200);
  try {
    await Bun.sleep(300);
    const busy = trickling.filter((client) => client.received().startsWith('HTTP/1.1 503'));
    expect(busy.length).toBe(30 - 8);
    expect(busy[0]?.received()).toContain('from this address');
    // Another client (127.0.0.2 is this machine too) still signs in at once.
    const other = await rawClient(
      `POST /session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${JSON.stringify({ key }).length}\r\nConnection: close\r\n\r\n${JSON.stringify({ key })}`,
      '127.0.0.2',
    );
    await other.closed;
    expect(other.received()).toStartWith('HTTP/1.1 200');
  } finally {
    clearInterval(drip);
    for (const client of trickling) client.socket.destroy();
  }
}, 30_000);

test('a sign-in declaring a large body is refused at once, before any byte of it is read', async () => {
  const client = await rawClient(
    'POST /session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n',
  );
  const lifetime = await client.closed;
  expect(client.received()).toStartWith('HTTP/1.1 413');
  expect(JSON.parse(client.received().split('\r\n\r\n')[1] ?? '')).toMatchObject({
    error: { code: 'PAYLOAD_TOO_LARGE', details: { limitBytes: 65_536 } },
  });
  expect(lifetime).toBeLessThan(2000);
});

test('a made-up key or session cookie buys no body reading: a stalled chunked body gets its 401 at once', async () => {
  const heads = [
    'Authorization: Bearer mfk_000000000000_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n',
    'Cookie: mediaforge_session=x\r\n',
  ].map(
    (credential) =>
      `POST /v1/records HTTP/1.1\r\nHost: x\r\n${credential}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
  );
  const clients = await Promise.all(heads.map((head) => rawClient(head)));
  for (const client of clients) client.socket.write('ffff\r\n{"mediaType":"text","title":"');
  const started = Date.now();
  for (const client of clients) {
    while (!client.received().includes('\r\n\r\n') && Date.now() - started < 5000) await Bun.sleep(20);
    expect(client.received()).toStartWith('HTTP/1.1 401');
    client.socket.destroy();
  }
  // Answered before the body finished, well inside the body timeout.
  expect(Date.now() - started).toBeLessThan(1500);
}, 30_000);

test('a long upload that keeps sending succeeds; one that trickles or stops sending is dropped', async () => {
  const uid = await createTextRecord();
  const head = (length: number) =>
    `POST /v1/records/${uid}/file HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Length: ${length}\r\n\r\n`;
  // Six pieces 700 ms apart: 3.5 s in all, longer than both timeouts, with no gap as long as either, at ~3.3 KB a
  // second (above API_BODY_MIN_SPEED_KBPS, 1 KiB a second).
  const piece = TRICKLE_LINE.repeat(100);
  const slow = await rawClient(head(piece.length * 6));
  for (let i = 0; i < 6; i++) {
    slow.socket.write(piece);
    await Bun.sleep(700);
  }
  while (!slow.received().includes('\r\n\r\n{')) await Bun.sleep(50);
  expect(slow.received()).toStartWith('HTTP/1.1 201');
  slow.socket.destroy();

  // The same pace with one line a piece (~34 bytes a second): never a gap as long as the body timeout, but slower
  // than the minimum over it, so it gets a 408 instead of holding its connection and upload place.
  const trickle = await rawClient(head(TRICKLE_LINE.length * 20).replace(uid, await createTextRecord()));
  await trickleUntilAnswered(trickle, 20);
  expect(trickle.received()).toStartWith('HTTP/1.1 408');
  expect(trickle.received()).toContain('slower than the minimum of 1024 bytes a second');
  trickle.socket.destroy();

  const other = await createTextRecord();
  const stalled = await rawClient(head(1000).replace(uid, other));
  stalled.socket.write(TRICKLE_LINE);
  const lifetime = await stalled.closed;
  expect(lifetime).toBeLessThan(8000);
  expect(stalled.received()).toStartWith('HTTP/1.1 408');
  expect(stalled.received()).toContain('"code":"REQUEST_TIMEOUT"');
}, 30_000);

test("a direct upload whose body trickles gets the body guard's 408, not a storage failure", async () => {
  const uid = await createTextRecord();
  const ticket = await fetch(new URL(`/v1/records/${uid}/upload-url`, server.url), {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: '{}',
  });
  const { url } = (await ticket.json()) as { url: string };
  const client = await rawClient(
    `PUT ${url} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Length: ${TRICKLE_LINE.length * 20}\r\n\r\n`,
  );
  await trickleUntilAnswered(client, 20);
  expect(client.received()).toStartWith('HTTP/1.1 408');
  expect(client.received()).toContain('"code":"REQUEST_TIMEOUT"');
  client.socket.destroy();
  expect(logLines.some((entry) => entry.includes('StorageError'))).toBe(false);
}, 30_000);

test('a resumable creation-with-upload is kept open while the file is stored, however long that takes', async () => {
  // A second server whose store waits 3 s before each write: storing outlasts the 2 s idle timeout, as a slow disk or
  // bucket would (the wait is the only stand-in; the store under it is the real file store). Bun 1.4.5 does not close
  // a connection whose response is pending, lifted idle timeout (`keepOpen`) or not: with the route's `keepOpen`
  // removed this still passed, with a 10 s wait. So this holds the behaviour a client sees, whichever part gives it.
  const slowStore = new Proxy(createFileStore({ root: join(home, 'slow-objects') }), {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || !String(property).startsWith('put')) return value;
      return async (...args: unknown[]) => {
        await Bun.sleep(3000);
        return value.apply(target, args);
      };
    },
  });
  const slowServer = startServer({
    database,
    store: slowStore,
    settings: loadSettings({
      env: { MEDIAFORGE_HOME: home, LOG_LEVEL: 'silent', API_IDLE_TIMEOUT_SECONDS: '2', API_BODY_TIMEOUT_SECONDS: '2' },
    }),
    logger: createLogger({ level: 'silent' }),
    host: '127.0.0.1',
    port: 0,
  });
  try {
    const uid = await createTextRecord();
    const body = 'a resumable upload stored slowly\n';
    const metadata = `recordUid ${Buffer.from(uid).toString('base64')},filetype ${Buffer.from('text/plain').toString('base64')}`;
    const started = Date.now();
    const response = await fetch(new URL('/v1/uploads', slowServer.url), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'tus-resumable': '1.0.0',
        'upload-length': String(body.length),
        'upload-metadata': metadata,
        'content-type': 'application/offset+octet-stream',
      },
      body,
    });
    expect(response.status).toBe(201);
    expect(Date.now() - started).toBeGreaterThan(2500);
    const record = await fetch(new URL(`/v1/records/${uid}`, server.url), {
      headers: { authorization: `Bearer ${key}` },
    }).then((answer) => answer.json() as Promise<{ status: string; fileSize: number }>);
    expect(record).toMatchObject({ status: 'uploaded', fileSize: body.length });
  } finally {
    await slowServer.stop(true);
  }
}, 30_000);

test('clients that hang up mid-request are logged as client aborts, not as server errors', async () => {
  const gone = await rawClient(stalledSession);
  gone.socket.write('{"key":');
  await Bun.sleep(200);
  gone.socket.destroy();
  await Bun.sleep(500);
  const messages = logLines.map((line) => (JSON.parse(line) as { msg: string }).msg);
  expect(messages).toContain('client aborted the request');
  expect(messages).not.toContain('unexpected error');
});

test('chunked bodies past the limits get a 413 in the one error shape', async () => {
  const uid = await createTextRecord();
  const upload = await fetch(new URL(`/v1/records/${uid}/file`, server.url), {
    method: 'POST',
    headers: { authorization: `Bearer ${key}` },
    body: chunked(new Uint8Array(256 * 1024).fill(0x61), 16),
    duplex: 'half',
  } as RequestInit);
  expect(upload.status).toBe(413);
  const uploadError = ((await upload.json()) as { error: { code: string; requestId: string } }).error;
  expect(uploadError.requestId).toBeString();

  const response = await fetch(new URL('/session', server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: chunked(new Uint8Array(256 * 1024).fill(0x7b), 12),
    duplex: 'half',
  } as RequestInit);
  expect(response.status).toBe(413);
  const error = ((await response.json()) as { error: { code: string; requestId: string } }).error;
  expect(error.code).toBe('PAYLOAD_TOO_LARGE');
  expect(error.requestId).toBeString();
});

function chunked(chunk: Uint8Array, count: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= count) return controller.close();
      sent += 1;
      controller.enqueue(chunk);
    },
  });
}

test('a truncated upload and one whose Content-Length is past the cap leave the record and the disk as they were', async () => {
  const uid = await createTextRecord();
  const objects = () => readdirSync(join(home, 'objects'), { recursive: true }).map(String).sort();
  const objectsBefore = objects();
  const head = (length: number) =>
    `POST /v1/records/${uid}/file HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Length: ${length}\r\n\r\n`;
  // Claims 200 KiB, sends 100 KiB of text and hangs up.
  const truncated = await rawClient(head(200 * 1024));
  truncated.socket.write('a line of text\n'.repeat((100 * 1024) / 15));
  await Bun.sleep(300);
  truncated.socket.destroy();
  // Claims more than MAX_FILE_SIZE_MB (1): refused before a byte of the body is read.
  const oversize = await rawClient(head(2 * 1024 * 1024));
  for (let waited = 0; !oversize.received().includes('}}') && waited < 5000; waited += 50) await Bun.sleep(50);
  oversize.socket.destroy();
  expect(oversize.received()).toStartWith('HTTP/1.1 413');
  expect(oversize.received()).toContain('"code":"FILE_SIZE_EXCEEDED"');
  // (A body under 1 MiB is never spooled: the spool directory may not even exist.)
  const spools = () =>
    existsSync(join(home, 'tmp')) ? readdirSync(join(home, 'tmp')).filter((name) => name.startsWith('spool-')) : [];
  for (let waited = 0; spools().length > 0 && waited < 5000; waited += 50) await Bun.sleep(50);
  expect(spools()).toEqual([]);
  const record = (await (
    await fetch(new URL(`/v1/records/${uid}`, server.url), { headers: { authorization: `Bearer ${key}` } })
  ).json()) as { fileSize: number | null; storageKey?: string | null };
  expect(record.fileSize ?? null).toBeNull();
  expect(objects()).toEqual(objectsBefore);
}, 30_000);
