import { expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createValidationPool, INLINE_BYTES } from './validation-pool.ts';

const fixture = new Uint8Array(readFileSync(join(import.meta.dir, '../../../test/fixtures/fixture.mp4')));
/** The fixture with a trailing `free` box: past INLINE_BYTES, so the pool walks it on a thread (or in its stead). */
const mp4 = (() => {
  const free = new Uint8Array(INLINE_BYTES);
  new DataView(free.buffer).setUint32(0, free.byteLength);
  free.set(new TextEncoder().encode('free'), 4);
  const padded = new Uint8Array(fixture.byteLength + free.byteLength);
  padded.set(fixture);
  padded.set(free, fixture.byteLength);
  return padded;
})();

test('walks run on a worker thread and return what the in-process walk would', async () => {
  const pool = createValidationPool();
  const info = await pool.validate('isobmff', mp4);
  expect(pool.threaded).toBe(true);
  expect(info.tracks).toEqual({ video: 1, audio: 0 });
});

test('where the worker cannot load (a compiled executable), walks run in-process instead', async () => {
  const pool = createValidationPool(new URL('./no-such-worker.ts', import.meta.url));
  const info = await pool.validate('isobmff', mp4);
  expect(pool.threaded).toBe(false);
  expect(info.tracks).toEqual({ video: 1, audio: 0 });
  await expect(pool.validate('isobmff', mp4.subarray(0, 100))).rejects.toThrow();
});

test("a walk of bytes up to INLINE_BYTES runs on the caller's thread: no worker is started for it", async () => {
  const pool = createValidationPool(new URL('./no-such-worker.ts', import.meta.url));
  const info = await pool.validate('isobmff', fixture);
  expect(info.tracks).toEqual({ video: 1, audio: 0 });
  // The pool never tried its (missing) worker, so it still counts itself threaded.
  expect(pool.threaded).toBe(true);
  await expect(pool.validate('isobmff', fixture.subarray(0, 100))).rejects.toThrow();
});
