/**
 * The queue's statements where the planner or the clock once made them slow or wrong: a task and its first items go
 * in as one atomic statement; an item is due the moment it is enqueued although `run_at` is stored rounded to the
 * millisecond; and a completion's plan stays linear in its outcomes when the statistics say nothing is running
 * (they always lag in a queue: a burst turns thousands of items 'running' between two ANALYZEs).
 */
import { beforeEach, expect, test } from 'bun:test';
import {
  type ClaimedItem,
  claimItems,
  completionStatement,
  type Executor,
  queueLanes,
  rows,
  TaskQueue,
  taskItems,
  tasks,
} from '@mediaforge/core';
import { describeBackends, planNodes } from '@mediaforge/core/testing';
import { asc, eq, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';

const noops = (count: number) => Array.from({ length: count }, (_, n) => ({ n }));

describeBackends('queue statements', (backend) => {
  const db = () => backend.database().db;

  beforeEach(async () => {
    await db().delete(tasks);
    await db().delete(queueLanes);
  });

  test('a task with no items is born succeeded; one of three chunks keeps seq and lane order', async () => {
    const queue = new TaskQueue(backend.database());
    const empty = await queue.enqueue({ kind: 'noop', payloads: [], userId: null });
    const [born] = await db().select().from(tasks).where(eq(tasks.id, empty));
    expect(born).toMatchObject({ status: 'succeeded', total: 0 });
    expect(born?.startedAt).toBeInstanceOf(Date);
    expect(born?.finishedAt).toBeInstanceOf(Date);

    const big = await queue.enqueue({ kind: 'noop', payloads: noops(12_001) });
    const items = await db()
      .select({ seq: taskItems.seq, fairAt: taskItems.fairAt, payload: taskItems.payload })
      .from(taskItems)
      .where(eq(taskItems.taskId, big))
      .orderBy(asc(taskItems.seq));
    expect(items.map((item) => item.seq)).toEqual(noops(12_001).map(({ n }) => n));
    expect(items.every((item, n) => (item.payload as { n: number }).n === n)).toBe(true);
    // One second of the owner's lane per item, across the chunk boundaries too.
    const first = items[0]?.fairAt.getTime() ?? 0;
    for (const n of [1, 4_999, 5_000, 5_001, 10_000, 12_000]) {
      expect((items[n]?.fairAt.getTime() ?? 0) - first).toBe(n * 1000);
    }
  });

  test('a refused enqueue leaves no task, no item and no lane taken', async () => {
    const queue = new TaskQueue(backend.database());
    const owner = 'lane-owner';
    await queue.enqueue({ kind: 'noop', payloads: noops(2), userId: owner });
    const [before] = await db().select().from(queueLanes).where(eq(queueLanes.owner, owner));
    // A priority past PostgreSQL's integer fails inside the statement, after the lane and the task were written.
    await expect(
      queue.enqueue({ kind: 'noop', payloads: noops(3), userId: owner, priority: 2 ** 40 }),
    ).rejects.toThrow();
    const [after] = await db().select().from(queueLanes).where(eq(queueLanes.owner, owner));
    expect(after?.nextAt.getTime()).toBe(before?.nextAt.getTime());
    const [counts] = await rows<{ tasks: unknown; items: unknown }>(
      db(),
      sql`select (select count(*) from tasks)::int as tasks, (select count(*) from task_items)::int as items`,
    );
    expect(counts).toEqual({ tasks: 1, items: 2 });
  });

  // PGlite's clock moves in whole milliseconds, so its now() never rounds up.
  test.skipIf(backend.kind === 'pglite')(
    'an item is due the moment it is enqueued, though run_at is stored rounded to the millisecond',
    async () => {
      const queue = new TaskQueue(backend.database());
      // Inside one transaction now() does not move. Wait for one whose sub-millisecond part rounds up (half of them):
      // the stored run_at is then later than now(), which a claim comparing run_at <= now() skipped.
      let claimedOne = false;
      for (let attempt = 0; attempt < 200 && !claimedOne; attempt++) {
        await db()
          .transaction(async (tx) => {
            const [row] = await rows<{ micros: unknown }>(
              tx as unknown as Executor,
              sql`select (extract(microseconds from now())::bigint % 1000)::int as micros`,
            );
            if (Number(row?.micros) < 500) throw new Skip();
            await queue.enqueue({ kind: 'noop', payloads: [{ n: attempt }] }, { tx: tx as unknown as Executor });
            const [stored] = await rows<{ later: boolean }>(
              tx as unknown as Executor,
              sql`select bool_and(run_at > now()) as later from task_items where status = 'queued'`,
            );
            expect(stored?.later).toBe(true);
            const claimed = await claimItems(tx as unknown as Executor, {
              workerId: 'w',
              queues: ['default'],
              limit: 10,
              leaseMs: 60_000,
            });
            expect(claimed.map((item) => item.payload)).toEqual([{ n: attempt }]);
            claimedOne = true;
            throw new Skip();
          })
          .catch((error) => {
            if (!(error instanceof Skip)) throw error;
          });
      }
      expect(claimedOne).toBe(true);
    },
  );

  test.skipIf(backend.kind === 'pglite')(
    'a completion stays linear in its outcomes when statistics say nothing runs',
    async () => {
      const queue = new TaskQueue(backend.database());
      await queue.enqueue({ kind: 'noop', payloads: noops(20_000) });
      // No ANALYZE since the items went in (autovacuum is off here, and between its runs in production it lags),
      // then 15,000 of them claimed: the planner believes almost none run.
      const claimed: ClaimedItem[] = [];
      while (claimed.length < 15_000) {
        claimed.push(...(await claimItems(db(), { workerId: 'w', queues: ['default'], limit: 5000, leaseMs: 60_000 })));
      }
      const outcomes = claimed.slice(0, 500).map((item) => ({ id: item.id, status: 'succeeded' as const }));
      // Planned generically, as a prepared statement is after five runs: the planner knows neither the ids nor the
      // worker, only the stale statistics. (completeItems prepares only small batches; this is the worst case.)
      const { sql: text, params } = new PgDialect().sqlToQuery(completionStatement('w', outcomes));
      const name = `completion_${Date.now()}`;
      const literals = params.map((value) => `'${String(value).replaceAll("'", "''")}'`).join(', ');
      const plan = await db()
        .transaction(async (tx) => {
          await tx.execute(sql`set local plan_cache_mode = force_generic_plan`);
          await tx.execute(sql.raw(`prepare ${name} as ${text}`));
          const [row] = await rows<{ 'QUERY PLAN': unknown }>(
            tx as unknown as Executor,
            sql.raw(`explain (analyze, format json) execute ${name}(${literals})`),
          );
          await tx.execute(sql.raw(`deallocate ${name}`));
          throw new Rollback(row?.['QUERY PLAN']);
        })
        .catch((error) => {
          if (error instanceof Rollback) return error.plan;
          throw error;
        });
      const nodes = planNodes(plan);
      // Comparisons the plan made and threw away: the joined form made 500 × 15,000 = 7,500,000 here.
      const discarded = nodes.reduce(
        (sum, node) => sum + Number(node['Rows Removed by Join Filter'] ?? 0) * Number(node['Actual Loops'] ?? 1),
        0,
      );
      expect(discarded).toBeLessThan(5000);
      const updated = nodes.find(
        (node) => node['Node Type'] === 'ModifyTable' && node['Relation Name'] === 'task_items',
      );
      expect(updated?.['Actual Rows']).toBe(500);
    },
  );
});

class Skip extends Error {}

class Rollback extends Error {
  constructor(readonly plan: unknown) {
    super('rollback');
  }
}
