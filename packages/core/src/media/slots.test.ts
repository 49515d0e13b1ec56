import { expect, test } from 'bun:test';
import { png } from './bombs/index.ts';
import { compressImage } from './compress.ts';
import { IMAGE_DECODE_QUEUE, IMAGE_DECODE_SLOTS, imageDecodes } from './decode-budget.ts';
import { loadSharp } from './load-sharp.ts';
import { createSlots, OverloadedError } from './slots.ts';
import { validateFileIntegrity } from './validate/validate.ts';

/** Fills `count` places of `slots` with work that waits for `release`. */
function occupy(slots: { run<T>(work: () => Promise<T>): Promise<T> }, count: number) {
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const held = Array.from({ length: count }, () => slots.run(() => gate));
  return async () => {
    release();
    await Promise.all(held);
  };
}

test('slots run at most `limit` at once, queue `queue` more, and refuse the next with a retryable OVERLOADED', async () => {
  const slots = createSlots({ name: 'Test work', limit: 2, queue: 1, retryAfterSeconds: 7 });
  const release = occupy(slots, 3);
  expect([slots.active, slots.waiting]).toEqual([2, 1]);
  const error = await slots.run(async () => 'ran').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(OverloadedError);
  expect(error).toMatchObject({ code: 'OVERLOADED', transient: true, details: { retryAfterSeconds: 7 } });
  expect((error as Error).message).toContain('Test work is at capacity');
  await release();
  expect(await slots.run(async () => 'ran')).toBe('ran');
  expect([slots.active, slots.waiting]).toEqual([0, 0]);
});

test('image validation and compression share the process decode slots and are refused when they are full', async () => {
  const image = png(2, 2, new Uint8Array(2 * 7));
  await validateFileIntegrity(image, 'image/png');
  const release = occupy(imageDecodes, IMAGE_DECODE_SLOTS + IMAGE_DECODE_QUEUE);
  try {
    await expect(validateFileIntegrity(image, 'image/png')).rejects.toMatchObject({ code: 'OVERLOADED' });
    await expect(compressImage(image)).rejects.toBeInstanceOf(OverloadedError);
  } finally {
    await release();
  }
  expect((await validateFileIntegrity(image, 'image/png')).width).toBe(2);
});

test('sharp runs one thread per image and keeps no cache of decoded images', async () => {
  const sharp = await loadSharp();
  expect(sharp.concurrency()).toBe(1);
  expect(sharp.cache()).toMatchObject({ memory: { max: 0 }, items: { max: 0 } });
});
