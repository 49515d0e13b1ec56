/** Retrying a finished task reopens it, so it counts against its user's active-task cap like a new task would. */
import { beforeEach, expect, test } from 'bun:test';
import { claimItems, completeItems, type Db, retryTask, TaskQueue, tasks, userScope } from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import { eq } from 'drizzle-orm';

describeBackends('retry under the active-task cap', (backend) => {
  let db: Db;
  let queue: TaskQueue;

  beforeEach(async () => {
    db = backend.database().db;
    await db.delete(tasks);
    queue = new TaskQueue(backend.database());
  });

  async function failedTask(userId: string): Promise<string> {
    const id = await queue.enqueue({ kind: 'noop', payloads: [{ n: 1 }], userId, maxAttempts: 1, queue: 'retry_cap' });
    const [item] = await claimItems(db, { workerId: 'w', queues: ['retry_cap'], limit: 1, leaseMs: 30_000 });
    await completeItems(db, 'w', [
      { id: item?.id ?? 0, status: 'failed', code: 'DOWNLOAD_HTTP_STATUS', message: 'gone' },
    ]);
    const [row] = await db.select().from(tasks).where(eq(tasks.id, id));
    expect(row?.status).toBe('failed');
    return id;
  }

  test('at the cap a retry is refused with CONCURRENCY_LIMITED and nothing is requeued; below it, it goes', async () => {
    const failed = await failedTask('erin');
    await queue.enqueue({ kind: 'noop', payloads: [{ n: 2 }], userId: 'erin', queue: 'retry_cap' });
    const scope = userScope('erin');
    await expect(retryTask(db, failed, scope, { maxActiveTasksForUser: 1 })).rejects.toMatchObject({
      code: 'CONCURRENCY_LIMITED',
    });
    const [still] = await db.select().from(tasks).where(eq(tasks.id, failed));
    expect(still?.status).toBe('failed');
    // With room under the cap, it goes.
    expect(await retryTask(db, failed, scope, { maxActiveTasksForUser: 2 })).toEqual({ taskId: failed, requeued: 1 });
  });
});
