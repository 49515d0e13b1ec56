/**
 * What a user's tasks keep in the database is bounded (decision 0056): each task records the bytes of input it keeps
 * until its items are pruned, a user's total is capped (USER_TASK_STORAGE_MB), cancelling does not free it (the
 * items are still there), pruning does, and tasks past TASK_HISTORY_DAYS are deleted with all they hold. Real PGlite
 * and PostgreSQL.
 */
import { beforeEach, expect, test } from 'bun:test';
import {
  type Db,
  newUid,
  pruneFinished,
  pruneTaskHistory,
  TaskManager,
  TaskQueue,
  taskIdempotency,
  taskItems,
  taskStoredBytes,
  tasks,
  userScope,
} from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import { eq, sql } from 'drizzle-orm';
import { refusal } from '../support/refusal.ts';

const settings = { maxBatchSize: 1000, allowHosts: [], maxFileSizeBytes: 50 * 1024 * 1024, taskTimeoutMinutes: 30 };
/** Distinct long URLs: the input an attacker padded each task with (7,000 characters each). */
const longUrls = (count: number) =>
  Array.from({ length: count }, () => `https://${newUid()}.example/${'x'.repeat(7000)}`);

describeBackends('task storage per user', (backend) => {
  let db: Db;
  let manager: TaskManager;
  beforeEach(() => {
    db = backend.database().db;
    manager = new TaskManager({ database: backend.database(), settings });
  });
  const storedOf = async (id: string) =>
    (await db.select({ bytes: tasks.storedBytes }).from(tasks).where(eq(tasks.id, id)))[0]?.bytes;

  test('a task records what it keeps; past the cap the next is refused, cancelled or not, until pruning frees it', async () => {
    const scope = userScope(`hoarder-${newUid()}`);
    const urls = longUrls(10);
    // What the task keeps: its items' input as JSON (each item's payload holds its URL), with fixed costs per row.
    expect(
      taskStoredBytes(
        urls.map((url) => ({ url })),
        {},
      ),
    ).toBeGreaterThan(70_000);
    const first = await manager.queueFileProcessing({ scope, urls });
    const one = (await storedOf(first)) as number;
    expect(one).toBeGreaterThan(70_000);
    const limit = Math.floor(one * 2.5);
    await manager.queueFileProcessing({ scope, urls: longUrls(10), maxTaskBytesForUser: limit });
    // Cancelling frees nothing: the items and their input are still kept.
    expect(await manager.cancelTask(first, scope)).toBe(true);
    const refused = await refusal(
      manager.queueFileProcessing({ scope, urls: longUrls(10), maxTaskBytesForUser: limit }),
    );
    expect(refused.details).toMatchObject({ kind: 'tasks', limit });
    expect(refused.message).toContain('TASK_RETENTION_DAYS');
    // A small task still fits; another user has a cap of their own.
    await manager.queueFileProcessing({ scope, urls: ['https://example.com/a.png'], maxTaskBytesForUser: limit });
    const other = userScope(`other-${newUid()}`);
    await manager.queueFileProcessing({ scope: other, urls: longUrls(10), maxTaskBytesForUser: limit });
    // Pruning the cancelled task's items gives its bytes back.
    await pruneFinished(db, new Date(Date.now() + 60_000));
    expect(await storedOf(first)).toBe(0);
    await manager.queueFileProcessing({ scope, urls: longUrls(10), maxTaskBytesForUser: limit });
    // Over the cap again, a caller without one (an admin key, the CLI) is not refused.
    await manager.queueFileProcessing({ scope, urls: longUrls(10) });
  });

  test('requests at once cannot race past the cap', async () => {
    const scope = userScope(`racer-${newUid()}`);
    const one = (await storedOf(
      await manager.queueFileProcessing({ scope: userScope(newUid()), urls: longUrls(5) }),
    )) as number;
    const attempts = await Promise.allSettled(
      Array.from({ length: 8 }, () =>
        manager.queueFileProcessing({ scope, urls: longUrls(5), maxTaskBytesForUser: one * 3 + 100 }),
      ),
    );
    expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(3);
  });

  test('tasks past their history are deleted with their items and idempotency keys; others stay', async () => {
    const queue = new TaskQueue(backend.database());
    const scope = userScope(`history-${newUid()}`);
    const old = await manager.queueFileProcessing({ scope, urls: longUrls(2), idempotencyKey: `k-${newUid()}` });
    const recent = await manager.queueFileProcessing({ scope, urls: longUrls(2) });
    const active = await manager.queueFileProcessing({ scope, urls: longUrls(2) });
    for (const id of [old, recent]) await manager.cancelTask(id, scope);
    await db.execute(sql`update tasks set finished_at = now() - interval '100 days' where id = ${old}`);
    expect(await pruneTaskHistory(db, new Date(Date.now() - 90 * 86_400_000))).toBe(1);
    expect(await queue.getTask(old)).toBeUndefined();
    expect(await db.select().from(taskItems).where(eq(taskItems.taskId, old))).toEqual([]);
    expect(await db.select().from(taskIdempotency).where(eq(taskIdempotency.taskId, old))).toEqual([]);
    expect((await queue.getTask(recent))?.status).toBe('cancelled');
    expect((await queue.getTask(active))?.status).toBe('queued');
  });
});
