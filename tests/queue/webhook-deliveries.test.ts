/**
 * The delivery rows on both backends, statement by statement: made in the transaction that finishes a task or item
 * (whichever way it ends: outcomes, cancel, retry), capped per task, claimed under a lease, recorded only by their
 * holder, and given up on once a dead holder used the last attempt.
 */
import { beforeEach, expect, test } from 'bun:test';
import {
  ALL_USERS,
  claimDeliveries,
  claimItems,
  completeItems,
  type Db,
  insertTaskWebhook,
  recordAttempt,
  retryTask,
  TaskQueue,
  tasks,
  webhookDeliveries,
} from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import { eq, sql } from 'drizzle-orm';

const noops = (count: number) => Array.from({ length: count }, (_, n) => ({ n }));
const hook = { url: 'https://hooks.example/t', secret: 'secret-0123456789abcdef' };

describeBackends('webhook deliveries', (backend) => {
  let db: Db;
  let queue: TaskQueue;

  beforeEach(async () => {
    db = backend.database().db;
    await db.delete(tasks);
    queue = new TaskQueue(backend.database());
  });

  const withHook = async (count: number, eachItem = false, maxDeliveries?: number) => {
    const id = await queue.enqueue({ kind: 'noop', payloads: noops(count) });
    await insertTaskWebhook(db, id, { ...hook, eachItem });
    if (maxDeliveries) await db.execute(sql`update task_webhooks set max_deliveries = ${maxDeliveries}`);
    return id;
  };
  /** A task of `userId` whose webhook wants each item. */
  const hooked = async (userId: string, count: number) => {
    const id = await queue.enqueue({ kind: 'noop', payloads: noops(count), userId });
    await insertTaskWebhook(db, id, { ...hook, eachItem: true });
    return id;
  };
  const rowsOf = (taskId: string) =>
    db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.taskId, taskId))
      .orderBy(webhookDeliveries.createdAt);
  const runAll = async (status: 'succeeded' | 'failed') => {
    const claimed = await claimItems(db, { workerId: 'w', queues: ['default'], limit: 1000, leaseMs: 30_000 });
    await completeItems(
      db,
      'w',
      claimed.map((item) => ({
        id: item.id,
        status,
        ...(status === 'failed' ? { code: 'INTERNAL_ERROR' as const } : {}),
      })),
    );
  };

  test('a finished task gets one delivery with its outcome; a task without a webhook none', async () => {
    const id = await withHook(3);
    const plain = await queue.enqueue({ kind: 'noop', payloads: noops(2) });
    await runAll('succeeded');
    const rows = await rowsOf(id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ event: 'task.finished', status: 'pending', attempts: 0, maxAttempts: 8 });
    expect(rows[0]?.payload).toMatchObject({ taskId: id, status: 'succeeded', succeeded: 3, total: 3 });
    expect(await rowsOf(plain)).toHaveLength(0);
  });

  test('item deliveries stop 10 short of the per-task cap; the finish is still told', async () => {
    const id = await withHook(30, true, 15);
    await runAll('succeeded');
    const rows = await rowsOf(id);
    expect(rows.filter((row) => row.event === 'item.finished')).toHaveLength(5);
    expect(rows.filter((row) => row.event === 'task.finished')).toHaveLength(1);
  });

  test('cancel and retry are told too: cancelled, then the finish after the retry', async () => {
    const id = await withHook(2);
    await queue.cancel(id);
    expect((await rowsOf(id)).map((row) => row.payload.status)).toEqual(['cancelled']);
    await retryTask(db, id, ALL_USERS);
    await runAll('succeeded');
    expect((await rowsOf(id)).map((row) => row.payload.status)).toEqual(['cancelled', 'succeeded']);
  });

  test('claimed under a lease, recorded only by the holder; a dead holder on its last attempt fails it', async () => {
    const id = await withHook(1);
    await runAll('failed');
    const [claimed] = await claimDeliveries(db, { workerId: 'd1', limit: 10, leaseMs: 30_000 });
    expect(claimed).toMatchObject({ taskId: id, url: hook.url, secret: hook.secret, attempts: 1 });
    expect(await claimDeliveries(db, { workerId: 'd2', limit: 10, leaseMs: 30_000 })).toEqual([]);
    const attempt = { id: claimed?.id as string, delivered: true, retryInMs: null, lastStatus: 200, lastError: null };
    expect(await recordAttempt(db, { ...attempt, workerId: 'd2', lastResponse: 'x' })).toBe(false);

    // d1 "dies" holding it on its last attempt: the next claim marks it failed instead of sending it again.
    await db.execute(sql`update webhook_deliveries set attempts = max_attempts, locked_until = now() - interval '1 s'`);
    expect(await claimDeliveries(db, { workerId: 'd2', limit: 10, leaseMs: 30_000 })).toEqual([]);
    const [row] = await rowsOf(id);
    expect(row).toMatchObject({ status: 'failed' });
    expect(row?.lastError).toContain('attempts exhausted');
    expect(await recordAttempt(db, { ...attempt, workerId: 'd1', lastResponse: 'late' })).toBe(false);
  });

  test('owners take turns: two of an owner in flight at most, and another owner is claimed past its backlog', async () => {
    const bobs = await hooked('bob', 30);
    await runAll('succeeded');
    const alices = await hooked('alice', 1);
    await runAll('succeeded');
    // bob has ~31 deliveries due before alice's 2: first come, first served gave bob every slot.
    expect((await rowsOf(bobs)).length).toBeGreaterThan(20);
    const taskOf = (claimed: { taskId: string }[]) => claimed.map((delivery) => delivery.taskId);
    const first = await claimDeliveries(db, { workerId: 'd1', limit: 4, leaseMs: 30_000 });
    expect(taskOf(first).filter((task) => task === bobs)).toHaveLength(2);
    expect(taskOf(first).filter((task) => task === alices)).toHaveLength(2);
    // bob has two in flight: another worker gets none of his until one is recorded.
    expect(await claimDeliveries(db, { workerId: 'd2', limit: 4, leaseMs: 30_000 })).toEqual([]);
    const bobsFirst = first.find((delivery) => delivery.taskId === bobs);
    const recorded = { delivered: true, retryInMs: null, lastStatus: 200, lastError: null, lastResponse: 'ok' };
    expect(await recordAttempt(db, { ...recorded, id: bobsFirst?.id as string, workerId: 'd1' })).toBe(true);
    expect(taskOf(await claimDeliveries(db, { workerId: 'd2', limit: 4, leaseMs: 30_000 }))).toEqual([bobs]);
  });

  test('a slot freed by a silent receiver goes to an owner with nothing in flight, not to the busy owners backlog', async () => {
    const alices = await hooked('alice', 10);
    const bobs = await hooked('bob', 10);
    await runAll('succeeded');
    const carols = await hooked('carol', 1);
    await runAll('succeeded');
    const taskOf = (claimed: { taskId: string }[]) => claimed.map((delivery) => delivery.taskId);
    // alice's and bob's receivers never answer: their four deliveries hold a worker's four slots.
    const held = await claimDeliveries(db, { workerId: 'd1', limit: 4, leaseMs: 30_000 });
    expect(taskOf(held).sort()).toEqual([alices, alices, bobs, bobs].sort());
    // One of alice's times out and is rescheduled: a slot is free, and alice has one in flight, carol none.
    const timedOut = held.find((delivery) => delivery.taskId === alices);
    const failed = { delivered: false, retryInMs: 0, lastStatus: null, lastError: 'timeout', lastResponse: '' };
    expect(await recordAttempt(db, { ...failed, id: timedOut?.id as string, workerId: 'd1' })).toBe(true);
    expect(taskOf(await claimDeliveries(db, { workerId: 'd1', limit: 1, leaseMs: 30_000 }))).toEqual([carols]);
  });
});
