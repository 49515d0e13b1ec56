import { expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createValidationPool } from './validation-pool.ts';

const mp4 = new Uint8Array(readFileSync(join(import.meta.dir, '../../../test/fixtures/fixture.mp4')));

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
