import { expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withPreparedFile } from '../files/prepare.ts';
import { png } from './bombs/index.ts';
import { compressImage } from './compress.ts';
import { IMAGE_DECODE_QUEUE, IMAGE_DECODE_QUEUE_PER_OWNER, IMAGE_DECODE_SLOTS, imageDecodes } from './decode-budget.ts';
import { loadSharp } from './load-sharp.ts';
import { createSlots, OverloadedError } from './slots.ts';
import { validateFileIntegrity } from './validate/validate.ts';

/** Fills `count` places of `slots` with work (of `owner`) that waits for `release`. */
function occupy(slots: { run<T>(work: () => Promise<T>, owner?: string): Promise<T> }, count: number, owner?: string) {
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const held = Array.from({ length: count }, () => slots.run(() => gate, owner));
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

test('waiting work is served round-robin by owner, in arrival order within an owner', async () => {
  const slots = createSlots({ name: 'Test work', limit: 1, queue: 10, retryAfterSeconds: 1 });
  const release = occupy(slots, 1, 'bob');
  const served: string[] = [];
  const queue = (owner: string, name: string) => slots.run(async () => void served.push(name), owner);
  const all = [
    queue('bob', 'bob 1'),
    queue('bob', 'bob 2'),
    queue('bob', 'bob 3'),
    queue('alice', 'alice 1'),
    queue('carol', 'carol 1'),
    queue('alice', 'alice 2'),
  ];
  expect(slots.waiting).toBe(6);
  await release();
  await Promise.all(all);
  expect(served).toEqual(['bob 1', 'alice 1', 'carol 1', 'bob 2', 'alice 2', 'bob 3']);
  expect([slots.active, slots.waiting]).toEqual([0, 0]);
});

test("one owner's queued heavy decodes delay another owner's small image by one decode, not the whole queue", async () => {
  // bob holds every slot but one and has three real 2000 × 2000 decodes waiting before alice's 2 × 2 PNG arrives.
  const held = occupy(imageDecodes, IMAGE_DECODE_SLOTS - 1, 'bob');
  const blocker = occupy(imageDecodes, 1, 'bob');
  const heavy = new Uint8Array(
    await (await loadSharp())({ create: { width: 2000, height: 2000, channels: 3, background: '#123456' } })
      .png()
      .toBuffer(),
  );
  const finished: string[] = [];
  const decode = (owner: string, name: string, bytes: Uint8Array) =>
    validateFileIntegrity(bytes, 'image/png', { owner }).then(() => void finished.push(name));
  const all = [
    decode('bob', 'bob 1', heavy),
    decode('bob', 'bob 2', heavy),
    decode('bob', 'bob 3', heavy),
    decode('alice', 'alice', png(2, 2, new Uint8Array(2 * 7))),
  ];
  expect(imageDecodes.waiting).toBe(4);
  await blocker();
  await Promise.all(all);
  await held();
  // One slot free: bob's first decode, then alice's, then bob's others (first come, first served put her last).
  expect(finished).toEqual(['bob 1', 'alice', 'bob 2', 'bob 3']);
});

test("the pipeline's prepare step decodes an image in its owner's turn", async () => {
  const home = await mkdtemp(join(tmpdir(), 'mf-fair-'));
  const held = occupy(imageDecodes, IMAGE_DECODE_SLOTS - 1, 'held');
  const blocker = occupy(imageDecodes, 1, 'held');
  const small = png(2, 2, new Uint8Array(2 * 7));
  const finished: string[] = [];
  const decode = (owner: string, name: string) =>
    validateFileIntegrity(small, 'image/png', { owner }).then(() => void finished.push(name));
  const prepared = withPreparedFile(
    new Blob([new Uint8Array(small)]).stream(),
    { home, owner: 'bob', compress: false },
    async () => void finished.push('bob prepared'),
  );
  // withPreparedFile detects and spools before it decodes: wait until its decode is queued.
  while (imageDecodes.waiting < 1) await Bun.sleep(5);
  const all = [prepared, decode('bob', 'bob 2'), decode('carol', 'carol')];
  await blocker();
  await Promise.all(all);
  await held();
  await rm(home, { recursive: true, force: true });
  // In bob's turn, carol comes before bob's second decode (without the owner it would be a turn of its own).
  expect(finished).toEqual(['bob prepared', 'carol', 'bob 2']);
});

test('one owner may fill only its share of the queue; other owners still get a place', async () => {
  const slots = createSlots({ name: 'Test work', limit: 1, queue: 4, queuePerOwner: 2, retryAfterSeconds: 1 });
  const release = occupy(slots, 3, 'bob'); // one running, two waiting: bob's share
  await expect(slots.run(async () => 'ran', 'bob')).rejects.toBeInstanceOf(OverloadedError);
  const alice = slots.run(async () => 'alice ran', 'alice');
  expect(slots.waiting).toBe(3);
  await release();
  expect(await alice).toBe('alice ran');
});

test('image validation and compression share the process decode slots and are refused when they are full', async () => {
  const image = png(2, 2, new Uint8Array(2 * 7));
  await validateFileIntegrity(image, 'image/png');
  const owners = Array.from({ length: IMAGE_DECODE_QUEUE / IMAGE_DECODE_QUEUE_PER_OWNER }, (_, i) => `user ${i}`);
  const holds = [
    occupy(imageDecodes, IMAGE_DECODE_SLOTS),
    ...owners.map((owner) => occupy(imageDecodes, IMAGE_DECODE_QUEUE_PER_OWNER, owner)),
  ];
  const release = () => Promise.all(holds.map((hold) => hold()));
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

test('work that leaves its slot early lets the next start while it finishes; leaving twice frees one slot', async () => {
  const slots = createSlots({ name: 'Test work', limit: 1, queue: 10, retryAfterSeconds: 1 });
  let finish = () => {};
  const finishing = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const first = slots.run(async (leave) => {
    leave();
    leave();
    await finishing;
    return 'first';
  });
  await Bun.sleep(0);
  // The first still runs, but its slot is the second's.
  expect(await slots.run(async () => 'second')).toBe('second');
  expect([slots.active, slots.waiting]).toEqual([0, 0]);
  finish();
  expect(await first).toBe('first');
  expect([slots.active, slots.waiting]).toEqual([0, 0]);
});
