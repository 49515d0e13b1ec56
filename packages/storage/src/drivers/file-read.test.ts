// The local-disk driver's reads: the bytes of the file found at `get`, whatever happens to its key afterwards, and
// no descriptor left open however the stream ends.
import { expect, test } from 'bun:test';
import { mkdtempSync, readdirSync, readlinkSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GetResult } from '../object-store.ts';
import { createFileStore } from './file.ts';
import { DROPPED_STREAM_WARNING } from './file-read.ts';

const root = mkdtempSync(join(tmpdir(), 'mediaforge-file-read-'));
const store = createFileStore({ root });
const MiB = 1024 * 1024;

function randomBytes(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let offset = 0; offset < size; offset += 65_536) crypto.getRandomValues(bytes.subarray(offset, offset + 65_536));
  return bytes;
}

/** Descriptors of this process open on the object `key` (once deleted, its link reads `… (deleted)`). */
function openOn(key: string): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(join(root, key)) ? [target] : [];
    } catch {
      return [];
    }
  });
}

async function until(condition: () => boolean, ms = 2000): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await Bun.sleep(20)) if (condition()) return true;
  return condition();
}

test('a key deleted after get still streams the bytes that were found (whole and ranged)', async () => {
  const bytes = randomBytes(3 * MiB);
  await store.put('image/deleted.bin', bytes, { contentType: 'application/octet-stream' });
  const whole = await store.get('image/deleted.bin');
  const ranged = await store.get('image/deleted.bin', { range: { start: MiB, end: 2 * MiB - 1 } });
  await store.delete('image/deleted.bin');
  expect(await store.get('image/deleted.bin')).toBeNull();
  expect(whole?.length).toBe(bytes.byteLength);
  expect(await Bun.readableStreamToBytes(whole?.body as ReadableStream<Uint8Array>)).toEqual(bytes);
  expect(ranged?.length).toBe(MiB);
  expect(await Bun.readableStreamToBytes(ranged?.body as ReadableStream<Uint8Array>)).toEqual(
    bytes.subarray(MiB, 2 * MiB),
  );
  expect(await until(() => openOn('image/deleted.bin').length === 0)).toBe(true);
});

test('a key overwritten after get still streams the old bytes, with the size found at get', async () => {
  const before = randomBytes(2 * MiB);
  await store.put('image/replaced.bin', before, { contentType: 'application/octet-stream' });
  const got = await store.get('image/replaced.bin');
  await store.put('image/replaced.bin', randomBytes(MiB), { contentType: 'application/octet-stream' });
  expect(got?.info.size).toBe(before.byteLength);
  expect(await Bun.readableStreamToBytes(got?.body as ReadableStream<Uint8Array>)).toEqual(before);
  expect((await store.head('image/replaced.bin'))?.size).toBe(MiB);
});

test('the descriptor is closed when the stream ends, is cancelled mid-way, or a range is refused', async () => {
  await store.put('video/big.bin', randomBytes(4 * MiB), { contentType: 'application/octet-stream' });
  const read = await store.get('video/big.bin');
  expect(openOn('video/big.bin')).not.toEqual([]);
  await Bun.readableStreamToBytes(read?.body as ReadableStream<Uint8Array>);
  expect(await until(() => openOn('video/big.bin').length === 0)).toBe(true);

  // A client that disconnects after the first chunk: the server cancels the body.
  const cancelled = await store.get('video/big.bin');
  const reader = (cancelled as GetResult).body.getReader();
  expect((await reader.read()).done).toBe(false);
  await reader.cancel(new Error('client went away'));
  expect(await until(() => openOn('video/big.bin').length === 0)).toBe(true);

  await expect(store.get('video/big.bin', { range: { start: 5 * MiB } })).rejects.toMatchObject({
    name: 'StorageError',
  });
  expect(openOn('video/big.bin')).toEqual([]);
});

test('a stream dropped unread gives its descriptor back once collected, with a warning', async () => {
  const warnings: string[] = [];
  const onWarning = (warning: Error & { code?: string }) => {
    if (warning.code === DROPPED_STREAM_WARNING) warnings.push(warning.message);
  };
  process.on('warning', onWarning);
  await store.put('text/dropped.txt', new TextEncoder().encode('never read'), { contentType: 'text/plain' });
  await (async () => {
    await store.get('text/dropped.txt');
  })();
  expect(openOn('text/dropped.txt')).toHaveLength(1);
  expect(
    await until(() => {
      Bun.gc(true);
      return openOn('text/dropped.txt').length === 0;
    }, 5000),
  ).toBe(true);
  expect(await until(() => warnings.length > 0)).toBe(true);
  process.off('warning', onWarning);
  await rm(root, { recursive: true, force: true });
});
