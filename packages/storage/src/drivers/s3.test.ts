import { expect, test } from 'bun:test';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { requireTool } from '@mediaforge/core/testing';
import { SignatureV4 } from '@smithy/signature-v4';
import { StorageError } from '../errors.ts';
import { testObjectStore } from '../testing/contract.ts';
import { closedPort } from '../testing/pattern.ts';
import { S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from '../testing/s3-server.ts';
import { createS3Store } from './s3.ts';

let server: TestS3Server;

/** A loopback proxy in front of s3rver: `inspect` sees each request and its body, and may answer it instead. */
function s3Proxy(
  inspect: (
    request: Request,
    url: URL,
    body: ArrayBuffer | undefined,
  ) => Response | undefined | Promise<Response | undefined>,
) {
  return Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
      const answer = await inspect(request, url, body);
      if (answer) return answer;
      const response = await fetch(`${server.endpoint}${url.pathname}${url.search}`, {
        method: request.method,
        headers: request.headers,
        body,
      });
      return new Response(response.body, { status: response.status, headers: response.headers });
    },
  });
}

const patternBytes = (size: number) => Uint8Array.from({ length: size }, (_, i) => (i * 31) & 0xff);

testObjectStore('s3 (s3rver on loopback)', {
  async setup() {
    server = await startS3Server();
    const store = createS3Store({
      bucket: server.bucket,
      endpoint: server.endpoint,
      ...S3RVER_CREDENTIALS,
      partSizeBytes: 5 * 1024 * 1024,
      maxAttempts: 2,
    });
    return { store, cleanup: () => server.close() };
  },
  additionalTests(store) {
    test('an independent S3 client (the AWS CLI) sees the keys, content types and metadata mediaforge wrote', async () => {
      const uid = '0196a3b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b';
      const key = `audio/${uid}.mp3`;
      await store().put(key, patternBytes(20_000), {
        contentType: 'audio/mpeg',
        metadata: { record_uid: uid, generated: 'true', title: 'తెలుగు' },
      });
      // Asynchronous spawn: the S3 server runs in this process, so a blocking spawn would deadlock.
      const aws = async (...args: string[]) => {
        const child = Bun.spawn([requireTool('aws'), '--endpoint-url', server.endpoint, '--output', 'json', ...args], {
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: process.env.HOME ?? '/tmp',
            AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
            AWS_DEFAULT_REGION: 'us-east-1',
            AWS_CONFIG_FILE: '/dev/null',
            AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          },
          stdout: 'pipe',
          stderr: 'pipe',
        });
        const [stdout, stderr, exitCode] = await Promise.all([
          new Response(child.stdout).text(),
          new Response(child.stderr).text(),
          child.exited,
        ]);
        if (exitCode !== 0) throw new Error(`aws ${args.join(' ')} failed: ${stderr}`);
        return stdout;
      };
      const head = JSON.parse(await aws('s3api', 'head-object', '--bucket', server.bucket, '--key', key));
      expect(head.ContentType).toBe('audio/mpeg');
      expect(head.ContentLength).toBe(20_000);
      expect(head.Metadata.record_uid).toBe(uid);
      expect(head.Metadata.generated).toBe('true');
      // Non-ASCII values travel RFC 2047-encoded, as S3 itself returns them.
      expect(head.Metadata.title).toBe(`=?UTF-8?B?${Buffer.from('తెలుగు').toString('base64')}?=`);
      const listing = await aws('s3', 'ls', `s3://${server.bucket}/audio/`, '--recursive');
      expect(listing).toContain(key);
      expect(listing).toMatch(/\s20000\s/);
    });

    test('streams shorter than one part (sent before any part buffer exists) and longer ones store exactly', async () => {
      const chunked = (total: number, chunk: number) => {
        let sent = 0;
        return new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent >= total) return controller.close();
            const size = Math.min(chunk, total - sent);
            controller.enqueue(patternBytes(size));
            sent += size;
          },
        });
      };
      // A single PutObject's ETag is the body's MD5.
      const small = await store().put('text/small-stream.txt', chunked(3000, 1000), { contentType: 'text/plain' });
      expect(small.size).toBe(3000);
      expect(small.etag).not.toContain('-');
      const md5 = new Bun.CryptoHasher('md5')
        .update(Buffer.concat([0, 1, 2].map(() => patternBytes(1000))))
        .digest('hex');
      expect(small.etag.replaceAll('"', '')).toBe(md5);
      const large = await store().put('text/large-stream.txt', chunked(11 * 1024 * 1024, 64 * 1024), {
        contentType: 'text/plain',
      });
      expect(large.size).toBe(11 * 1024 * 1024);
      const whole = new Bun.CryptoHasher('md5');
      for (let i = 0; i < 11 * 16; i++) whole.update(patternBytes(64 * 1024));
      // (s3rver gives multipart objects the whole body's MD5 as their ETag, so it cannot tell the paths apart.)
      expect(large.etag.replaceAll('"', '')).toBe(whole.digest('hex'));
      const back = await store().get('text/large-stream.txt');
      expect(back?.length).toBe(11 * 1024 * 1024);
      await back?.body.cancel();
    });

    test('presigned URLs are fetchable over plain HTTP', async () => {
      await store().put('text/signed.txt', new TextEncoder().encode('signed body'), { contentType: 'text/plain' });
      const url = await store().url('text/signed.txt', { expiresIn: 60 });
      expect(url).toContain('X-Amz-Signature=');
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('signed body');
    });

    test('a missing bucket is STORAGE_BUCKET_MISSING; wrong credentials are STORAGE_ACCESS_DENIED', async () => {
      const noBucket = createS3Store({ bucket: 'no-such-bucket', endpoint: server.endpoint, ...S3RVER_CREDENTIALS });
      const missing = await noBucket
        .put('text/x.txt', new Uint8Array([1]), { contentType: 'text/plain' })
        .catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(StorageError);
      expect((missing as StorageError).code).toBe('STORAGE_BUCKET_MISSING');

      const denied = createS3Store({
        bucket: server.bucket,
        endpoint: server.endpoint,
        // s3rver checks the access key id but not SigV4 signatures, so the bad credential is the key id.
        accessKeyId: 'NOT-A-KEY',
        secretAccessKey: 'wrong-secret',
      });
      const error = await denied
        .put('text/x.txt', new Uint8Array([1]), { contentType: 'text/plain' })
        .catch((e: unknown) => e);
      expect((error as StorageError).code).toBe('STORAGE_ACCESS_DENIED');
      expect((error as Error).message).not.toContain('wrong-secret');
    });

    test('503 SlowDown is retried with backoff until it succeeds', async () => {
      // A fault-injecting proxy in front of the real S3 server: the first two requests get S3's SlowDown reply.
      let seen = 0;
      const proxy = s3Proxy(() => {
        seen += 1;
        if (seen > 2) return undefined;
        return new Response(
          '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
          { status: 503, headers: { 'content-type': 'application/xml' } },
        );
      });
      try {
        const flaky = createS3Store({
          bucket: server.bucket,
          endpoint: `http://127.0.0.1:${proxy.port}`,
          ...S3RVER_CREDENTIALS,
          maxAttempts: 4,
        });
        await flaky.put('text/retried.txt', new TextEncoder().encode('made it'), { contentType: 'text/plain' });
        expect(seen).toBe(3);
        const back = await store().get('text/retried.txt');
        expect(await new Response(back?.body).text()).toBe('made it');

        seen = -10; // more failures than attempts: a typed transient error
        const error = await flaky.head('text/retried.txt').catch((e: unknown) => e);
        expect((error as StorageError).code).toBe('STORAGE_TRANSIENT');
      } finally {
        proxy.stop(true);
      }
    });

    test("putFile signs each request's payload with its SHA-256; a part refused once is sent again from the file", async () => {
      // A proxy in front of the real S3 server checks every PUT's x-amz-content-sha256 against the bytes that
      // arrived (s3rver does not), and answers the second part's first attempt with S3's 503.
      const puts: { signed: string | null; actual: string; part: string | null }[] = [];
      let refused = false;
      const proxy = s3Proxy(async (request, url, body) => {
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
        const through = createS3Store({
          bucket: server.bucket,
          endpoint: `http://127.0.0.1:${proxy.port}`,
          ...S3RVER_CREDENTIALS,
          partSizeBytes: 5 * 1024 * 1024,
        });
        const bytes = patternBytes(11 * 1024 * 1024 + 7);
        const sha256 = new Bun.CryptoHasher('sha256').update(bytes).digest('hex');
        for (const [key, body] of [
          ['audio/signed-parts.wav', bytes],
          ['audio/signed-single.wav', bytes.subarray(0, 4096)],
        ] as const) {
          const path = join(dir, 'spool');
          writeFileSync(path, body);
          await through.putFile?.(key, path, { contentType: 'audio/wav', size: body.byteLength, sha256 });
          const back = await store().get(key);
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
      const proxy = s3Proxy(async (request, url, body) => {
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
        const through = createS3Store({
          bucket: server.bucket,
          endpoint: `http://127.0.0.1:${proxy.port}`,
          ...S3RVER_CREDENTIALS,
          partSizeBytes: 5 * 1024 * 1024,
        });
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
          sha256: '0'.repeat(64),
        });
        const back = await store().get(key);
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
      const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
      process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;
      const dir = mkdtempSync(join(tmpdir(), 'mediaforge-s3-sdk-'));
      try {
        for (const [name, sdk] of Object.entries(stores)) {
          await sdk.put(`text/sdk-${name}.txt`, new TextEncoder().encode(name), { contentType: 'text/plain' });
          expect(await new Response((await store().get(`text/sdk-${name}.txt`))?.body).text()).toBe(name);
          for (const size of [4096, 11 * 1024 * 1024 + 3]) {
            const path = join(dir, `spool-${size}`);
            writeFileSync(path, patternBytes(size));
            const key = `audio/sdk-${name}-${size}.wav`;
            const sha256 = '0'.repeat(64);
            await sdk.putFile?.(key, path, { contentType: 'audio/wav', size, sha256, metadata: { a: 'b' } });
            const back = await store().get(key);
            expect(back?.info).toMatchObject({ size, metadata: { a: 'b' } });
            expect(new Uint8Array(await new Response(back?.body).arrayBuffer())).toEqual(patternBytes(size));
          }
        }
      } finally {
        process.env.AWS_ACCESS_KEY_ID = saved.id;
        process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
        if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
        if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
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

    test('an unreachable endpoint is a transient error after the retries', async () => {
      const port = closedPort();
      const down = createS3Store({
        bucket: 'b',
        endpoint: `http://127.0.0.1:${port}`,
        ...S3RVER_CREDENTIALS,
        maxAttempts: 2,
      });
      const error = await down.head('text/x.txt').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect((error as StorageError).code).toBe('STORAGE_TRANSIENT');
      expect((error as StorageError).transient).toBe(true);
    });
  },
});
