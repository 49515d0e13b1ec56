/**
 * The slot reserve (packages/worker/src/slot-reserve.ts): one user holds at most all but one of a worker's places, so
 * another owner's item starts while that user's long items still run. An attacker's four trickling downloads once
 * held a worker's four slots, and everyone else's work, for up to 25 minutes. The operator's tasks are not limited.
 */
import { afterEach, beforeEach, expect, test } from 'bun:test';
import { queueLanes, TaskQueue, tasks } from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import type { Handler } from '@mediaforge/worker';
import type { Held } from '../../packages/worker/src/held.ts';
import { claimSize, pastCap } from '../../packages/worker/src/slot-reserve.ts';
import { waitFor } from '../support/wait.ts';
import { workerStarter } from '../support/workers.ts';

const noops = (count: number) => Array.from({ length: count }, (_, n) => ({ n }));

describeBackends('slot reserve', (backend) => {
  const workersFor = workerStarter(backend, { heartbeatMs: 200 });
  const gates: (() => void)[] = [];
  let started: string[] = [];
  /** Each item records its owner and runs until released (or stopped). */
  const blocking: Handler = async (item, ctx) => {
    started.push(item.userId ?? 'operator');
    await new Promise<void>((resolve) => {
      gates.push(resolve);
      ctx.signal.addEventListener('abort', () => resolve());
    });
    return {};
  };
  const release = () => {
    for (const open of gates.splice(0)) open();
  };

  beforeEach(async () => {
    await workersFor.stopAll();
    const { db } = backend.database();
    await db.delete(tasks);
    await db.delete(queueLanes);
    started = [];
  });
  afterEach(release);

  test("a user holds all but one slot; another user's item starts in the last while theirs still run", async () => {
    const queue = new TaskQueue(backend.database());
    await workersFor.start({ noop: blocking }, { concurrency: 4 });
    const bobs = await queue.enqueue({ kind: 'noop', payloads: noops(6), userId: 'bob' });
    await waitFor('bob to hold three slots', async () => started.length === 3);
    // The fourth stays free for others (claims come every 50 ms here; without the reserve bob had it at once).
    await Bun.sleep(400);
    expect(started).toEqual(['bob', 'bob', 'bob']);
    // A fourth item claimed with the first three was handed back without spending an attempt.
    const waiting = (await queue.listItems(bobs)).items.filter((item) => item.status === 'queued');
    expect(waiting.map((item) => item.attempts)).toEqual([0, 0, 0]);
    await queue.enqueue({ kind: 'noop', payloads: noops(2), userId: 'alice' });
    await waitFor("alice's first item to start", async () => started.includes('alice'));
    await Bun.sleep(200);
    // One place for alice, three for bob, however many either has waiting.
    expect(started.filter((owner) => owner === 'alice')).toHaveLength(1);
    expect(started.filter((owner) => owner === 'bob')).toHaveLength(3);
    // As bob's items end, the freed places go on being used.
    release();
    await waitFor('every item to start', async () => started.length === 8);
  });

  test("another user's capped task (maxConcurrent) also gets the last slot", async () => {
    const queue = new TaskQueue(backend.database());
    await workersFor.start({ noop: blocking }, { concurrency: 4 });
    await queue.enqueue({ kind: 'noop', payloads: noops(6), userId: 'bob' });
    await waitFor('bob to hold three slots', async () => started.length === 3);
    await queue.enqueue({ kind: 'noop', payloads: noops(2), userId: 'alice', limits: { maxConcurrent: 1 } });
    await waitFor("alice's capped item to start", async () => started.includes('alice'));
    expect(started.filter((owner) => owner === 'bob')).toHaveLength(3);
  });

  test("with --prefetch, a user runs all but one slot and another user's item starts in it", async () => {
    const queue = new TaskQueue(backend.database());
    await workersFor.start({ noop: blocking }, { concurrency: 4, prefetch: 4 });
    await queue.enqueue({ kind: 'noop', payloads: noops(12), userId: 'bob' });
    await waitFor('bob to run three items', async () => started.length === 3);
    await Bun.sleep(400);
    expect(started).toEqual(['bob', 'bob', 'bob']);
    await queue.enqueue({ kind: 'noop', payloads: noops(1), userId: 'alice' });
    // Before, alice's item waited behind bob's prefetched ones until his ended.
    await waitFor("alice's item to start", async () => started.includes('alice'));
    expect(started.filter((owner) => owner === 'bob')).toHaveLength(3);
  });

  test("the operator's own tasks (no user) take every slot", async () => {
    const queue = new TaskQueue(backend.database());
    await workersFor.start({ noop: blocking }, { concurrency: 4 });
    await queue.enqueue({ kind: 'noop', payloads: noops(6) });
    await waitFor('four items to start', async () => started.length === 4);
    expect(started).toEqual(['operator', 'operator', 'operator', 'operator']);
  });
});

/** A held item of `userId` (only what the slot reserve reads). */
const heldBy = (userId: string | null) => ({ item: { userId }, settled: false }) as unknown as Held;

test('a claim takes no more than the room its users have left, so nothing it brings is handed back', () => {
  const none = new Set<string>();
  // Nothing held, the last claim brought bob's items: 4 places, bob may hold 3.
  expect(claimSize([], 4, [], new Set(['bob']), 4)).toEqual({ limit: 3, limited: true });
  // bob holds 2: one more of his fits; the last place is for others, claimed when a slot frees.
  const two = [heldBy('bob'), heldBy('bob')];
  expect(claimSize(two, 4, [], none, 2)).toEqual({ limit: 1, limited: true });
  const claimed = [{ userId: 'bob' }] as never[];
  expect(pastCap(two, claimed, 4)).toEqual([]);
  // bob left out (at his cap): the claim brings only others' items, as many as are wanted.
  expect(claimSize([...two, heldBy('bob')], 4, ['bob'], new Set(['bob']), 1)).toEqual({ limit: 1, limited: false });
  // The operator's tasks and an unlimited worker (one place) are not cut.
  expect(claimSize([heldBy(null), heldBy(null)], 4, [], none, 2)).toEqual({ limit: 2, limited: false });
  expect(claimSize([], 1, [], new Set(['bob']), 1)).toEqual({ limit: 1, limited: false });
  // Always at least one: a claim that may bring nobody's but the operator's still runs.
  expect(claimSize([heldBy('bob'), heldBy('bob'), heldBy('bob')], 4, [], none, 1).limit).toBe(1);
});
