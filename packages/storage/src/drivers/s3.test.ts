import { expect, test } from 'bun:test';
import { requireTool } from '@mediaforge/core/testing';
import { StorageError } from '../errors.ts';
import { testObjectStore } from '../testing/contract.ts';
import { closedPort } from '../testing/pattern.ts';
import { s3Proxy } from '../testing/s3-proxy.ts';
import { S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from '../testing/s3-server.ts';
import { createS3Store } from './s3.ts';

let server: TestS3Server;

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
      const proxy = s3Proxy(server.endpoint, () => {
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
