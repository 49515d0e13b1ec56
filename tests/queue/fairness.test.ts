/**
 * Owners take turns: claims go by each item's place in its owner's lane (one second of fair time per item), so a
 * user's long batch cannot hold another user's work back until it is done (an attacker's 400-item task once held
 * another user's single item back 173 s). Within one owner the order stays first come, first served.
 */
import { beforeEach, expect, test } from 'bun:test';
import { claimItems, type Db, queueLanes, TaskQueue, tasks } from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';

const noops = (count: number) => Array.from({ length: count }, (_, n) => ({ n }));

describeBackends('fair claiming', (backend) => {
  let db: Db;
  let queue: TaskQueue;

  beforeEach(async () => {
    db = backend.database().db;
    await db.delete(tasks);
    await db.delete(queueLanes);
    queue = new TaskQueue(backend.database());
  });

  const claim = (limit: number) => claimItems(db, { workerId: 'w', queues: ['default'], limit, leaseMs: 30_000 });

  test("another owner's item is claimed next, not after a long batch queued before it", async () => {
    const bulk = await queue.enqueue({ kind: 'noop', payloads: noops(400), userId: 'bob' });
    const small = await queue.enqueue({ kind: 'noop', payloads: noops(1), userId: 'alice' });
    const unowned = await queue.enqueue({ kind: 'noop', payloads: noops(1) });
    const first = await claim(4);
    const taskIds = first.map((item) => item.taskId);
    expect(taskIds).toContain(small);
    expect(taskIds).toContain(unowned);
    expect(taskIds.filter((id) => id === bulk)).toHaveLength(2);
    // Bob's items still come in his order.
    expect(first.filter((item) => item.taskId === bulk).map((item) => item.seq)).toEqual([0, 1]);
  });

  test("one owner's tasks stay first come, first served; a second batch does not overtake the first", async () => {
    const earlier = await queue.enqueue({ kind: 'noop', payloads: noops(3), userId: 'carol' });
    const later = await queue.enqueue({ kind: 'noop', payloads: noops(3), userId: 'carol' });
    const claimed = await claim(6);
    expect(claimed.map((item) => item.taskId)).toEqual([earlier, earlier, earlier, later, later, later]);
  });

  test('higher priority still comes first; an owner alone is served at once however far its lane runs', async () => {
    await queue.enqueue({ kind: 'noop', payloads: noops(500), userId: 'dave' });
    const urgent = await queue.enqueue({ kind: 'noop', payloads: noops(1), userId: 'dave', priority: 5 });
    const [first] = await claim(1);
    expect(first?.taskId).toBe(urgent);
    // Dave's lane is now ~500 s ahead of the clock; his items are runnable all the same.
    expect(await claim(500)).toHaveLength(500);
  });
});
