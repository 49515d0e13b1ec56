/**
 * The S3 driver's requests as they go over the wire: payload hashes and SigV4 signatures checked by proxies in front of
 * s3rver (which checks neither), the SDK paths a caller's own client or a credential chain takes, and the request
 * timeout against a server that never answers.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { StorageError } from '../errors.ts';
import { s3Proxy } from '../testing/s3-proxy.ts';
import { S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from '../testing/s3-server.ts';
import { createS3Store } from './s3.ts';

let server: TestS3Server;
beforeAll(async () => {
  server = await startS3Server();
});
afterAll(() => server.close());

/** Reads back what the stores under test wrote, straight from s3rver. */
const reader = () => createS3Store({ bucket: server.bucket, endpoint: server.endpoint, ...S3RVER_CREDENTIALS });

/**
 * A store (5 MiB parts, static keys: the lean put) pointed at `endpoint`, e.g. a proxy in front of s3rver; by default
 * every file above one part is a multipart upload.
 */
const storeAt = (endpoint: string, uploadCutoffBytes = 5 * 1024 * 1024) =>
  createS3Store({
    bucket: server.bucket,
    endpoint,
    ...S3RVER_CREDENTIALS,
    partSizeBytes: 5 * 1024 * 1024,
    uploadCutoffBytes,
  });

const patternBytes = (size: number) => Uint8Array.from({ length: size }, (_, i) => (i * 31) & 0xff);
const sha256Of = (bytes: Uint8Array) => new Bun.CryptoHasher('sha256').update(bytes).digest('hex');

test("putFile signs each request's payload with its SHA-256; a part refused once is sent again from the file", async () => {
  // A proxy in front of the real S3 server checks every PUT's x-amz-content-sha256 against the bytes that
  // arrived (s3rver does not), and answers the second part's first attempt with S3's 503.
  const puts: { signed: string | null; actual: string; part: string | null }[] = [];
  let refused = false;
  const proxy = s3Proxy(server.endpoint, async (request, url, body) => {
    if (request.method === 'PUT' && body) {
      const part = url.searchParams.get('partNumber');
      if (part === '2' && !refused) {
        refused = true;
        return new Response('<Error><Code>SlowDown</Code><Message>later</Message></Error>', { status: 503 });
      }
      const actual = new Bun.CryptoHasher('sha256').update(new Uint8Array(body)).digest('hex');
      puts.push({ signed: request.headers.get('x-amz-content-sha256'), actual, part });
    }
    return undefined;
  });
  const dir = mkdtempSync(join(tmpdir(), 'mediaforge-s3-putfile-'));
  try {
    const through = storeAt(`http://127.0.0.1:${proxy.port}`);
    const bytes = patternBytes(11 * 1024 * 1024 + 7);
    for (const [key, body] of [
      ['audio/signed-parts.wav', bytes],
      ['audio/signed-single.wav', bytes.subarray(0, 4096)],
    ] as const) {
      const path = join(dir, 'spool');
      writeFileSync(path, body);
      await through.putFile?.(key, path, { contentType: 'audio/wav', size: body.byteLength, sha256: sha256Of(body) });
      const back = await reader().get(key);
      expect(new Uint8Array(await new Response(back?.body).arrayBuffer())).toEqual(new Uint8Array(body));
    }
    expect(refused).toBe(true);
    expect(puts.map((put) => put.part)).toEqual(expect.arrayContaining(['1', '2', '3', null]));
    expect(puts).toHaveLength(4);
    for (const put of puts) expect(put.signed).toBe(put.actual);
  } finally {
    proxy.stop(true);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("putFile sends a file up to the upload cutoff as one PutObject signed with the record's SHA-256, which S3 checks", async () => {
  // The proxy answers as S3 does when a payload does not match its x-amz-content-sha256 (s3rver does not check), and
  // records every request: a file under the cutoff must be one PUT, with no multipart upload and no part.
  const seen: { method: string; query: string; signed: string | null; actual: string }[] = [];
  const proxy = s3Proxy(server.endpoint, async (request, url, body) => {
    const actual = sha256Of(new Uint8Array(body ?? new ArrayBuffer(0)));
    const signed = request.headers.get('x-amz-content-sha256');
    seen.push({ method: request.method, query: url.search, signed, actual });
    if (request.method === 'PUT' && signed !== actual) {
      const error = `<Error><Code>XAmzContentSHA256Mismatch</Code><Message>The provided 'x-amz-content-sha256' header does not match what was computed.</Message></Error>`;
      return new Response(error, { status: 400 });
    }
    return undefined;
  });
  const dir = mkdtempSync(join(tmpdir(), 'mediaforge-s3-cutoff-'));
  try {
    const through = storeAt(`http://127.0.0.1:${proxy.port}`, 16 * 1024 * 1024);
    const bytes = patternBytes(11 * 1024 * 1024 + 7);
    const path = join(dir, 'spool');
    writeFileSync(path, bytes);
    await through.putFile?.('audio/one-put.wav', path, {
      contentType: 'audio/wav',
      size: bytes.byteLength,
      sha256: sha256Of(bytes),
    });
    expect(seen).toEqual([{ method: 'PUT', query: '', signed: sha256Of(bytes), actual: sha256Of(bytes) }]);
    const back = await reader().get('audio/one-put.wav');
    expect(new Uint8Array(await new Response(back?.body).arrayBuffer())).toEqual(bytes);

    // A file whose bytes are not what the record says (changed after it was hashed) is refused, and nothing is stored.
    writeFileSync(path, bytes);
    const wrong = await through
      .putFile?.('audio/changed.wav', path, {
        contentType: 'audio/wav',
        size: bytes.byteLength,
        sha256: sha256Of(bytes.subarray(1)),
      })
      .catch((error: unknown) => error);
    expect(wrong).toBeInstanceOf(StorageError);
    expect((wrong as StorageError).transient).toBe(false);
    expect(await reader().head('audio/changed.wav')).toBeNull();

    // Above the cutoff, the same file goes in parts, each signed with its own hash.
    seen.length = 0;
    await storeAt(`http://127.0.0.1:${proxy.port}`).putFile?.('audio/in-parts.wav', path, {
      contentType: 'audio/wav',
      size: bytes.byteLength,
      sha256: sha256Of(bytes),
    });
    expect(seen.filter((request) => request.query.includes('partNumber'))).toHaveLength(3);
  } finally {
    proxy.stop(true);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('small puts and file parts sent without the SDK client carry valid SigV4 signatures for what arrived', async () => {
  // s3rver does not check V4 signatures; this proxy does, as S3 would: it signs again what it received (method,
  // raw path, query, the headers the request names as signed, its date and payload hash) with the same secret,
  // and compares.
  const verifier = new SignatureV4({
    credentials: S3RVER_CREDENTIALS,
    region: 'us-east-1',
    service: 's3',
    sha256: class {
      private hash;
      constructor(secret?: string | Uint8Array) {
        this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', secret);
      }
      update(data: string | Uint8Array) {
        this.hash.update(data);
      }
      async digest() {
        return new Uint8Array(this.hash.digest());
      }
    } as never,
    uriEscapePath: false,
  });
  const checked: { path: string; valid: boolean }[] = [];
  const proxy = s3Proxy(server.endpoint, async (request, url, body) => {
    const authorization = request.headers.get('authorization') ?? '';
    if (request.method === 'PUT') {
      const signedNames = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
      const headers = Object.fromEntries(signedNames.map((name) => [name, request.headers.get(name) ?? '']));
      const date = request.headers.get('x-amz-date') ?? '';
      const signingDate = new Date(
        `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 11)}:${date.slice(11, 13)}:${date.slice(13)}`,
      );
      const again = await verifier.sign(
        {
          method: 'PUT',
          protocol: 'http:',
          hostname: url.hostname,
          port: Number(url.port),
          path: new URL(request.url).pathname,
          query: Object.fromEntries(url.searchParams),
          headers,
        },
        { signingDate },
      );
      const sha = new Bun.CryptoHasher('sha256').update(new Uint8Array(body ?? new ArrayBuffer(0))).digest('hex');
      checked.push({
        path: `${url.pathname}${url.search}`,
        valid: again.headers.authorization === authorization && headers['x-amz-content-sha256'] === sha,
      });
    }
    return undefined;
  });
  const dir = mkdtempSync(join(tmpdir(), 'mediaforge-s3-signed-'));
  try {
    const through = storeAt(`http://127.0.0.1:${proxy.port}`);
    // A key that needs S3's URI encoding (space, parentheses, non-ASCII) and metadata that needs RFC 2047.
    const key = "audio/a b (1) é'!*.wav";
    await through.put(key, patternBytes(1000), {
      contentType: 'audio/wav',
      metadata: { title: 'తెలుగు', record_uid: 'x' },
      cacheControl: 'max-age=60',
    });
    const path = join(dir, 'spool');
    writeFileSync(path, patternBytes(6 * 1024 * 1024));
    await through.putFile?.('audio/parts.wav', path, {
      contentType: 'audio/wav',
      size: 6 * 1024 * 1024,
      sha256: sha256Of(patternBytes(6 * 1024 * 1024)),
    });
    const back = await reader().get(key);
    expect(back?.info.metadata).toMatchObject({ title: 'తెలుగు', record_uid: 'x' });
    expect(back?.info.cacheControl).toBe('max-age=60');
    expect(new Uint8Array(await new Response(back?.body).arrayBuffer())).toEqual(patternBytes(1000));
    // One small put, two parts.
    expect(checked.filter((c) => c.path.includes('partNumber'))).toHaveLength(2);
    expect(checked).toHaveLength(3);
    expect(checked.every((c) => c.valid)).toBe(true);
  } finally {
    proxy.stop(true);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with a client of its own (AWS set-ups: credential chains, virtual hosts) every put goes through the SDK', async () => {
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  // The caller's own client (node:http handler), and ours with keys from the environment's credential chain.
  const stores = {
    own: createS3Store({ bucket: server.bucket, client, partSizeBytes: 5 * 1024 * 1024 }),
    chain: createS3Store({ bucket: server.bucket, endpoint: server.endpoint, partSizeBytes: 5 * 1024 * 1024 }),
  };
  const dir = mkdtempSync(join(tmpdir(), 'mediaforge-s3-sdk-'));
  try {
    await withEnvironmentKeys(async () => {
      for (const [name, sdk] of Object.entries(stores)) {
        await sdk.put(`text/sdk-${name}.txt`, new TextEncoder().encode(name), { contentType: 'text/plain' });
        expect(await new Response((await reader().get(`text/sdk-${name}.txt`))?.body).text()).toBe(name);
        for (const size of [4096, 11 * 1024 * 1024 + 3]) {
          const path = join(dir, `spool-${size}`);
          writeFileSync(path, patternBytes(size));
          const key = `audio/sdk-${name}-${size}.wav`;
          const sha256 = sha256Of(patternBytes(size));
          await sdk.putFile?.(key, path, { contentType: 'audio/wav', size, sha256, metadata: { a: 'b' } });
          const back = await reader().get(key);
          expect(back?.info).toMatchObject({ size, metadata: { a: 'b' } });
          expect(new Uint8Array(await new Response(back?.body).arrayBuffer())).toEqual(patternBytes(size));
        }
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a server that takes the request and never answers is abandoned after the request timeout, as transient', async () => {
  // Reads everything, answers nothing: what a stuck S3 (or a proxy that lost part of a body) looks like.
  const requests: number[] = [];
  const silent = Bun.listen({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open() {
        requests.push(Date.now());
      },
      data() {},
    },
  });
  const dir = mkdtempSync(join(tmpdir(), 'mediaforge-s3-silent-'));
  try {
    const stuck = createS3Store({
      bucket: server.bucket,
      endpoint: `http://127.0.0.1:${silent.port}`,
      ...S3RVER_CREDENTIALS,
      requestTimeoutMs: 300,
      maxAttempts: 2,
    });
    const started = Date.now();
    const small = await stuck
      .put('text/stuck.txt', new TextEncoder().encode('x'), { contentType: 'text/plain' })
      .catch((e: unknown) => e);
    expect(small).toBeInstanceOf(StorageError);
    expect((small as StorageError).code).toBe('STORAGE_TRANSIENT');
    // A file (4 KiB: 300 ms plus a second per 64 KiB of body), and a call through the SDK client.
    const path = join(dir, 'spool');
    writeFileSync(path, patternBytes(4096));
    const file = await stuck
      .putFile?.('audio/stuck.wav', path, { contentType: 'audio/wav', size: 4096, sha256: '0'.repeat(64) })
      .catch((e: unknown) => e);
    expect((file as StorageError).code).toBe('STORAGE_TRANSIENT');
    const head = await stuck.head('audio/stuck.wav').catch((e: unknown) => e);
    expect((head as StorageError).code).toBe('STORAGE_TRANSIENT');
    expect(Date.now() - started).toBeLessThan(10_000);
    // Each call was tried twice (maxAttempts), each attempt on a connection of its own or a reused one.
    expect(requests.length).toBeGreaterThanOrEqual(2);
  } finally {
    silent.stop(true);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Runs `fn` with the SDK's default credential chain finding s3rver's keys in the environment. */
async function withEnvironmentKeys<T>(fn: () => Promise<T>): Promise<T> {
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;
  try {
    return await fn();
  } finally {
    if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    else process.env.AWS_ACCESS_KEY_ID = saved.id;
    if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
  }
}

test('a redirect from S3 is a failure, never followed: no byte reaches the other server and nothing counts as stored', async () => {
  const sink: string[] = [];
  const elsewhere = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      sink.push(`${request.method} ${new URL(request.url).pathname} ${(await request.arrayBuffer()).byteLength}`);
      return new Response('', { headers: { etag: '"sink"' } });
    },
  });
  const proxy = s3Proxy(server.endpoint, (request) =>
    request.method === 'PUT' || request.method === 'POST'
      ? new Response(null, { status: 307, headers: { location: `http://127.0.0.1:${elsewhere.port}/sink/x` } })
      : undefined,
  );
  try {
    const endpoint = `http://127.0.0.1:${proxy.port}`;
    const lean = storeAt(endpoint);
    const sdk = createS3Store({ bucket: server.bucket, endpoint, partSizeBytes: 5 * 1024 * 1024 });
    const small = await lean
      .put('text/redirected.txt', new TextEncoder().encode('x'), { contentType: 'text/plain' })
      .catch((e: unknown) => e);
    expect((small as StorageError).code).toBe('STORAGE_ERROR');
    expect((small as Error).message).toContain('307');
    const throughSdk = await withEnvironmentKeys(() =>
      sdk.put('text/redirected-sdk.txt', new TextEncoder().encode('x'), { contentType: 'text/plain' }),
    ).catch((e: unknown) => e);
    expect(throughSdk).toBeInstanceOf(StorageError);
    expect(sink).toEqual([]);
    for (const key of ['text/redirected.txt', 'text/redirected-sdk.txt']) expect(await reader().head(key)).toBeNull();
  } finally {
    proxy.stop(true);
    elsewhere.stop(true);
  }
});

test('a reply whose body stalls after its headers is abandoned and its connection closed, through the SDK too', async () => {
  // Headers and a first chunk of a listing, then nothing: the SDK reads such a body whole before it returns.
  let closed = 0;
  const stalling = Bun.listen({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      data(socket) {
        socket.write(
          'HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: 5000\r\n\r\n<?xml version="1.0"?><ListBucketResult>',
        );
      },
      close() {
        closed += 1;
      },
    },
  });
  try {
    const stuck = createS3Store({
      bucket: server.bucket,
      endpoint: `http://127.0.0.1:${stalling.port}`,
      requestTimeoutMs: 300,
      maxAttempts: 2,
    });
    const started = Date.now();
    const error = await withEnvironmentKeys(() => stuck.list('audio/')).catch((e: unknown) => e);
    expect((error as StorageError).code).toBe('STORAGE_TRANSIENT');
    expect(Date.now() - started).toBeLessThan(10_000);
    // Both attempts' connections were closed by the client, not left open.
    for (let waited = 0; closed < 2 && waited < 2000; waited += 50) await Bun.sleep(50);
    expect(closed).toBeGreaterThanOrEqual(2);
  } finally {
    stalling.stop(true);
  }
});
