/**
 * The writes each item costs (decision 0050): an each-item webhook's mark goes in with the items (the per-item
 * trigger reads it instead of calling a function for every item), a claim keeps one plan whatever its limit, takes
 * and locks exactly its limit from one queue, and commits without waiting for its WAL flush, for its own transaction
 * only.
 */
import { beforeEach, expect, test } from 'bun:test';
import {
  claimItems,
  completeItems,
  type Executor,
  enqueueWithExtras,
  insertTaskWebhook,
  limitBucket,
  queueLanes,
  rows,
  TaskQueue,
  tasks,
  webhookDeliveries,
} from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import { sql } from 'drizzle-orm';

const noops = (count: number) => Array.from({ length: count }, (_, n) => ({ n }));
const hook = { url: 'https://hooks.example.com/in', secret: 'webhook-secret-0123456789', eachItem: true };

class Rollback extends Error {}

describeBackends('claim and completion writes', (backend) => {
  const db = () => backend.database().db;
  const ex = (tx: unknown) => tx as Executor;

  beforeEach(async () => {
    await db().delete(tasks);
    await db().delete(queueLanes);
  });

  const marks = (taskId: string) =>
    rows<{ marked: boolean; at: string }>(
      db(),
      sql`select item_webhook as marked, ctid::text as at from task_items where task_id = ${taskId} order by seq`,
    );

  test('an each-item webhook marks its items as they go in, and only its task finishing items are told', async () => {
    const queue = new TaskQueue(backend.database());
    const told = await enqueueWithExtras(db(), { owner: null, webhook: hook }, undefined, (tx, extra) =>
      queue.enqueue({ kind: 'noop', payloads: noops(3), ...extra }, { tx }),
    );
    const silent = await enqueueWithExtras(db(), { owner: null }, undefined, (tx, extra) =>
      queue.enqueue({ kind: 'noop', payloads: noops(2), ...extra }, { tx }),
    );
    expect((await marks(told)).map((row) => row.marked)).toEqual([true, true, true]);
    expect((await marks(silent)).map((row) => row.marked)).toEqual([false, false]);

    const claimed = await claimItems(db(), { workerId: 'w', queues: ['default'], limit: 10, leaseMs: 30_000 });
    expect(claimed).toHaveLength(5);
    await completeItems(
      db(),
      'w',
      claimed.map((item) => ({ id: item.id, status: 'succeeded' as const })),
    );
    const events = await db()
      .select({ taskId: webhookDeliveries.taskId, event: webhookDeliveries.event })
      .from(webhookDeliveries);
    expect(events.filter((row) => row.event === 'item.finished')).toEqual([
      { taskId: told, event: 'item.finished' },
      { taskId: told, event: 'item.finished' },
      { taskId: told, event: 'item.finished' },
    ]);
    expect(events.some((row) => row.taskId === silent)).toBe(false);
  });

  test('a webhook stored after the enqueue marks the items once; items marked already are not rewritten', async () => {
    const queue = new TaskQueue(backend.database());
    const late = await queue.enqueue({ kind: 'noop', payloads: noops(2) });
    await insertTaskWebhook(db(), late, hook);
    expect((await marks(late)).map((row) => row.marked)).toEqual([true, true]);

    const early = await queue.enqueue({ kind: 'noop', payloads: noops(2), itemWebhook: true });
    const before = await marks(early);
    await insertTaskWebhook(db(), early, hook);
    // Same tuple, same place: the update found nothing to change.
    expect(await marks(early)).toEqual(before);
  });

  test('a claim commits asynchronously, and only its own transaction does', async () => {
    const queue = new TaskQueue(backend.database());
    await queue.enqueue({ kind: 'noop', payloads: noops(2) });
    const inside = await db()
      .transaction(async (tx) => {
        const claimed = await claimItems(ex(tx), { workerId: 'w', queues: ['default'], limit: 1, leaseMs: 30_000 });
        expect(claimed).toHaveLength(1);
        const [row] = await rows<{ mode: string }>(ex(tx), sql`select current_setting('synchronous_commit') as mode`);
        throw new Rollback(row?.mode);
      })
      .catch((error) => (error instanceof Rollback ? error.message : Promise.reject(error)));
    expect(inside).toBe('off');
    await claimItems(db(), { workerId: 'w', queues: ['default'], limit: 1, leaseMs: 30_000 });
    const [after] = await rows<{ mode: string }>(db(), sql`select current_setting('synchronous_commit') as mode`);
    expect(after?.mode).toBe('on');
  });

  test('claims take exactly their limit from one queue or several, in claim order', async () => {
    const queue = new TaskQueue(backend.database());
    await queue.enqueue({ kind: 'noop', queue: 'a', payloads: noops(40) });
    await queue.enqueue({ kind: 'noop', queue: 'b', payloads: noops(40) });
    let taken = 0;
    for (const limit of [1, 3, 5, 9]) {
      const one = await claimItems(db(), { workerId: 'w', queues: ['a'], limit, leaseMs: 30_000 });
      expect(one.map((item) => item.seq)).toEqual(noops(limit).map(({ n }) => n + taken));
      taken += limit;
      const two = await claimItems(db(), { workerId: 'w', queues: ['a', 'b'], limit, leaseMs: 30_000 });
      expect(two).toHaveLength(limit);
      taken += two.filter((item) => item.queue === 'a').length;
    }
    expect([1, 2, 3, 4, 5, 24, 500, 512, 513].map(limitBucket)).toEqual([1, 2, 4, 4, 8, 32, 512, 512, 1024]);
  });

  test.skipIf(backend.kind === 'pglite')('a claim from one queue locks only the rows it takes', async () => {
    const queue = new TaskQueue(backend.database());
    await queue.enqueue({ kind: 'noop', payloads: noops(10) });
    const free = await db()
      .transaction(async (tx) => {
        // 3 asks for a plan of 4 (limitBucket): the fourth row must stay free for other workers.
        await claimItems(ex(tx), { workerId: 'w', queues: ['default'], limit: 3, leaseMs: 30_000 });
        const [row] = await rows<{ n: number }>(
          db(),
          sql`select count(*)::int as n from (
                select id from task_items where status = 'queued' for update skip locked) t`,
        );
        throw new Rollback(String(row?.n));
      })
      .catch((error) => (error instanceof Rollback ? error.message : Promise.reject(error)));
    // 10 - 3 claimed: the claimed rows are locked by the open transaction and skipped, the rest free.
    expect(free).toBe('7');
  });

  test.skipIf(backend.kind === 'pglite')('claims of every limit keep one plan per limit bucket', async () => {
    const queue = new TaskQueue(backend.database());
    await queue.enqueue({ kind: 'noop', payloads: noops(3000) });
    await db().execute(sql`analyze task_items`);
    const plans = await db()
      .transaction(async (tx) => {
        // One connection: prepared statements are per session.
        for (let round = 0; round < 12; round++) {
          for (const limit of [3, 4, 9, 13, 16]) {
            const claimed = await claimItems(ex(tx), { workerId: 'w', queues: ['default'], limit, leaseMs: 30_000 });
            expect(claimed).toHaveLength(limit);
          }
        }
        const found = await rows<{ generic: unknown; custom: unknown }>(
          ex(tx),
          sql`select generic_plans as generic, custom_plans as custom from pg_prepared_statements
              where statement like '%for update skip locked%' and statement like '%queue = ''default''%'
                and statement ~ 'limit (4|16)[[:space:]]'`,
        );
        throw new Rollback(JSON.stringify(found.map((row) => [Number(row.generic), Number(row.custom)])));
      })
      .catch((error) => (error instanceof Rollback ? error.message : Promise.reject(error)));
    const counts = JSON.parse(plans) as [number, number][];
    // Limits 3 and 4 share bucket 4; 9, 13 and 16 share 16: two statements, each planned a few times, then kept.
    expect(counts).toHaveLength(2);
    for (const [generic, custom] of counts) {
      expect(custom).toBeLessThanOrEqual(5);
      expect(generic).toBeGreaterThan(10);
    }
  });
});
