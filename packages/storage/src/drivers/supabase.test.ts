import { expect, test } from 'bun:test';
import { StorageError } from '../errors.ts';
import { testObjectStore } from '../testing/contract.ts';
import { closedPort } from '../testing/pattern.ts';
import { startSupabaseStorageServer, type TestSupabaseServer } from '../testing/supabase-server.ts';
import { createSupabaseStore } from './supabase.ts';

// Hosted Supabase cannot be reached from the test machine: these run against the loopback stand-in in
// ../testing/supabase-server.ts, which implements the Storage REST endpoints with Supabase's request/response shapes.
let server: TestSupabaseServer;

testObjectStore('supabase (loopback Storage API stand-in)', {
  async setup() {
    server = await startSupabaseStorageServer({ fileSizeLimit: 64 * 1024 * 1024 });
    const store = createSupabaseStore({
      url: server.url,
      serviceRoleKey: server.serviceRoleKey,
      bucket: server.bucket,
    });
    return { store, cleanup: () => server.close() };
  },
  additionalTests(store) {
    test('signed URLs are fetchable without the key and carry a token', async () => {
      await store().put('text/signed.txt', new TextEncoder().encode('signed body'), { contentType: 'text/plain' });
      const url = await store().url('text/signed.txt', { expiresIn: 60 });
      expect(url).toContain('token=');
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('signed body');
    });

    test('public buckets give public URLs', async () => {
      const publicServer = await startSupabaseStorageServer({ publicBucket: true });
      try {
        const publicStore = createSupabaseStore({
          url: publicServer.url,
          serviceRoleKey: publicServer.serviceRoleKey,
          bucket: publicServer.bucket,
          publicBucket: true,
        });
        const put = await publicStore.put('image/p.png', new Uint8Array([1, 2, 3]), { contentType: 'image/png' });
        expect(put.url).toBe(`${publicServer.url}/storage/v1/object/public/${publicServer.bucket}/image/p.png`);
        expect(new Uint8Array(await (await fetch(put.url)).arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
      } finally {
        await publicServer.close();
      }
    });

    test("Supabase's errors (real status inside a 400 body) map to typed codes", async () => {
      const codeOf = async (promise: Promise<unknown>) => {
        const error = await promise.catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StorageError);
        return (error as StorageError).code;
      };
      const noBucket = createSupabaseStore({ url: server.url, serviceRoleKey: server.serviceRoleKey, bucket: 'nope' });
      expect(await codeOf(noBucket.put('text/x.txt', new Uint8Array([1]), { contentType: 'text/plain' }))).toBe(
        'STORAGE_BUCKET_MISSING',
      );
      const badKey = createSupabaseStore({ url: server.url, serviceRoleKey: 'not-the-key', bucket: server.bucket });
      expect(await codeOf(badKey.head('text/x.txt'))).toBe('STORAGE_ACCESS_DENIED');
      expect(await codeOf(badKey.put('text/x.txt', new Uint8Array([1]), { contentType: 'text/plain' }))).toBe(
        'STORAGE_ACCESS_DENIED',
      );
      const tooBig = await startSupabaseStorageServer({ fileSizeLimit: 10 });
      try {
        const small = createSupabaseStore({
          url: tooBig.url,
          serviceRoleKey: tooBig.serviceRoleKey,
          bucket: tooBig.bucket,
        });
        expect(await codeOf(small.put('text/x.txt', new Uint8Array(11), { contentType: 'text/plain' }))).toBe(
          'STORAGE_TOO_LARGE',
        );
      } finally {
        await tooBig.close();
      }
      expect(await codeOf(store().copy('text/none.txt', 'text/other.txt'))).toBe('STORAGE_NOT_FOUND');
    });

    test('an unreachable service is a transient error', async () => {
      const port = closedPort();
      const down = createSupabaseStore({ url: `http://127.0.0.1:${port}`, serviceRoleKey: 'k', bucket: 'b' });
      const error = await down.put('text/x.txt', new Uint8Array([1]), { contentType: 'text/plain' }).catch((e) => e);
      expect((error as StorageError).code).toBe('STORAGE_TRANSIENT');
      expect((error as Error).message).not.toContain('k@');
    });
  },
});
