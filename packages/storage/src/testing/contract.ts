/**
 * The storage contract: every driver runs this same suite (`testObjectStore`), the way unstorage tests its drivers.
 * Drivers add their own cases through `additionalTests`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidKeyError, StorageAbortedError, StorageError } from '../errors.ts';
import type { ObjectStore } from '../object-store.ts';
import { patternStream } from './pattern.ts';

export interface ContractOptions {
  /** Creates an empty store; `cleanup` runs after the suite. */
  setup(): Promise<{ store: ObjectStore; cleanup?: () => Promise<void> }>;
  additionalTests?: (store: () => ObjectStore) => void;
}

const text = (value: string) => new TextEncoder().encode(value);
const readText = async (body: ReadableStream<Uint8Array>) => new Response(body).text();
const readBytes = async (body: ReadableStream<Uint8Array>) => new Uint8Array(await new Response(body).arrayBuffer());

export function testObjectStore(name: string, options: ContractOptions): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let store: ObjectStore;
    let cleanup: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      ({ store, cleanup } = await options.setup());
    });
    afterAll(async () => cleanup?.());

    test('round-trips small, empty and binary bodies with content type', async () => {
      const small = await store.put('text/a.txt', text('hello'), { contentType: 'text/plain' });
      expect(small).toMatchObject({ key: 'text/a.txt', size: 5 });
      expect(small.etag.length).toBeGreaterThan(0);
      const got = await store.get('text/a.txt');
      expect(await readText(got?.body as ReadableStream<Uint8Array>)).toBe('hello');
      expect(got?.info.contentType).toBe('text/plain');

      await store.put('text/empty.txt', new Uint8Array(0), { contentType: 'text/plain' });
      expect((await store.head('text/empty.txt'))?.size).toBe(0);

      const binary = Uint8Array.from({ length: 256 }, (_, i) => i);
      await store.put('image/bin.jpg', binary, { contentType: 'image/jpeg' });
      expect(await readBytes((await store.get('image/bin.jpg'))?.body as ReadableStream<Uint8Array>)).toEqual(binary);
    });

    test('streams of unknown length larger than one multipart part (6 MiB)', async () => {
      const size = 6 * 1024 * 1024 + 123;
      const put = await store.put('video/big.mp4', patternStream(size), { contentType: 'video/mp4' });
      expect(put.size).toBe(size);
      const back = await readBytes((await store.get('video/big.mp4'))?.body as ReadableStream<Uint8Array>);
      expect(back.byteLength).toBe(size);
      expect(Bun.hash(back)).toBe(Bun.hash(await readBytes(patternStream(size))));
    });

    test('metadata round-trips, including non-ASCII values', async () => {
      const metadata = {
        record_uid: '12345678-1234-5678-9012-123456789012',
        title: 'తెలుగు — naïve ✓',
        generated: 'true',
      };
      await store.put('audio/meta.mp3', text('x'), { contentType: 'audio/mpeg', metadata });
      const info = await store.head('audio/meta.mp3');
      expect(info?.metadata).toEqual(metadata);
      expect(info?.lastModified).toBeInstanceOf(Date);
    });

    test('ranges return exactly the requested bytes', async () => {
      await store.put('text/range.txt', text('0123456789'), { contentType: 'text/plain' });
      const middle = await store.get('text/range.txt', { range: { start: 2, end: 5 } });
      expect(await readText(middle?.body as ReadableStream<Uint8Array>)).toBe('2345');
      expect(middle?.length).toBe(4);
      const tail = await store.get('text/range.txt', { range: { start: 7 } });
      expect(await readText(tail?.body as ReadableStream<Uint8Array>)).toBe('789');
    });

    test('missing objects read as null; deleting one is not an error', async () => {
      expect(await store.get('text/missing.txt')).toBeNull();
      expect(await store.head('text/missing.txt')).toBeNull();
      await store.delete('text/missing.txt');
      await store.put('text/gone.txt', text('x'), { contentType: 'text/plain' });
      await store.delete('text/gone.txt');
      expect(await store.head('text/gone.txt')).toBeNull();
    });

    test('lists by prefix in key order, page by page', async () => {
      const keys = Array.from({ length: 7 }, (_, i) => `list/item-${String(i).padStart(2, '0')}.txt`);
      await Promise.all(keys.map((key) => store.put(key, text(key), { contentType: 'text/plain' })));
      await store.put('listing/other.txt', text('x'), { contentType: 'text/plain' });
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list('list/', { limit: 3, cursor });
        seen.push(...page.items.map((item) => item.key));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor);
      expect(seen).toEqual(keys);
      expect(pages).toBe(3);
      expect((await store.list('list/item-03')).items.map((i) => i.size)).toEqual([text(keys[3] as string).byteLength]);
    });

    test('an aborted put leaves nothing visible', async () => {
      const controller = new AbortController();
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(stream) {
          sent += 1;
          if (sent === 3) controller.abort(new Error('user cancelled'));
          await Bun.sleep(1);
          stream.enqueue(new Uint8Array(64 * 1024));
        },
      });
      const error = await store
        .put('video/aborted.mp4', body, { contentType: 'video/mp4', signal: controller.signal })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageAbortedError);
      expect(await store.head('video/aborted.mp4')).toBeNull();
      expect((await store.list('video/aborted')).items).toEqual([]);
    });

    test('concurrent puts to different keys all land intact', async () => {
      const keys = Array.from({ length: 20 }, (_, i) => `concurrent/${i}.bin`);
      await Promise.all(
        keys.map((key, i) =>
          store.put(key, patternStream(10_000 + i, 999), { contentType: 'application/octet-stream' }),
        ),
      );
      for (const [i, key] of keys.entries()) expect((await store.head(key))?.size).toBe(10_000 + i);
    });

    test('invalid keys are refused', async () => {
      for (const key of [
        '',
        '/abs.txt',
        '../escape.txt',
        'a/../../b',
        'a//b',
        'a/./b',
        'ctl\u0001.txt',
        'back\\slash',
        'a/.hidden',
      ]) {
        const error = await store.put(key, text('x'), { contentType: 'text/plain' }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidKeyError);
        expect((error as Error).message).toContain(`[${store.driver}]`);
      }
    });

    test('copy duplicates body and metadata; url names the object', async () => {
      await store.put('image/src.png', text('png-bytes'), { contentType: 'image/png', metadata: { a: 'b' } });
      await store.copy('image/src.png', 'image/dst.png');
      const copied = await store.get('image/dst.png');
      expect(await readText(copied?.body as ReadableStream<Uint8Array>)).toBe('png-bytes');
      expect(copied?.info).toMatchObject({ contentType: 'image/png', metadata: { a: 'b' } });
      expect(await store.url('image/dst.png')).toContain('image/dst.png');
      const put = await store.put('image/addr.png', text('x'), { contentType: 'image/png' });
      expect(store.objectUrl('image/addr.png')).toBe(put.url);
    });

    test('putFile takes a local file over: small and multipart-sized files land intact, the file is gone', async () => {
      if (!store.putFile) return;
      const dir = mkdtempSync(join(tmpdir(), 'mediaforge-putfile-'));
      try {
        // 17 MiB: three parts at S3's default 8 MiB; 3 KiB: one request.
        for (const [key, size] of [
          ['audio/handed-small.wav', 3 * 1024],
          ['audio/handed-large.wav', 17 * 1024 * 1024],
        ] as const) {
          const path = join(dir, key.replace('/', '-'));
          const bytes = await readBytes(patternStream(size, 1_000_003));
          writeFileSync(path, bytes);
          const sha256 = new Bun.CryptoHasher('sha256').update(bytes).digest('hex');
          const put = await store.putFile(key, path, {
            contentType: 'audio/wav',
            metadata: { sha256, note: 'ünïcode' },
            size,
            sha256,
          });
          expect(put).toMatchObject({ key, size });
          expect(existsSync(path)).toBe(false);
          const back = await store.get(key);
          expect(back?.info).toMatchObject({ size, contentType: 'audio/wav', metadata: { sha256, note: 'ünïcode' } });
          const stored = await readBytes(back?.body as ReadableStream<Uint8Array>);
          expect(new Bun.CryptoHasher('sha256').update(stored).digest('hex')).toBe(sha256);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('putFile refuses an aborted signal and a missing file with typed errors, and leaves nothing visible', async () => {
      if (!store.putFile) return;
      const dir = mkdtempSync(join(tmpdir(), 'mediaforge-putfile-'));
      try {
        const path = join(dir, 'kept.wav');
        writeFileSync(path, text('x'.repeat(100)));
        const options = { contentType: 'audio/wav', size: 100, sha256: '0'.repeat(64) };
        const aborted = await store
          .putFile('audio/handed-aborted.wav', path, { ...options, signal: AbortSignal.abort(new Error('stop')) })
          .catch((e: unknown) => e);
        expect(aborted).toBeInstanceOf(StorageAbortedError);
        // Not handed over: the caller still has its file.
        expect(existsSync(path)).toBe(true);
        const missing = await store
          .putFile('audio/handed-missing.wav', join(dir, 'nothing-here.wav'), options)
          .catch((e: unknown) => e);
        expect(missing).toBeInstanceOf(StorageError);
        expect((missing as Error).message).toContain(`[${store.driver}]`);
        for (const key of ['audio/handed-aborted.wav', 'audio/handed-missing.wav']) {
          expect(await store.head(key)).toBeNull();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    options.additionalTests?.(() => store);
  });
}
