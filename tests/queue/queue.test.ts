import { beforeEach, expect, test } from 'bun:test';
import {
  ALL_USERS,
  claimItems,
  completeItems,
  type Db,
  FileProcessingError,
  newUid,
  reapExpiredLeases,
  records,
  TaskManager,
  TaskQueue,
  taskItems,
  tasks,
  userScope,
  workers,
} from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import { eq, sql } from 'drizzle-orm';
import { waitFor } from '../support/wait.ts';
import { workerStarter } from '../support/workers.ts';

const settings = { maxBatchSize: 1000, allowHosts: [], maxFileSizeBytes: 50 * 1024 * 1024, taskTimeoutMinutes: 30 };

const noops = (count: number) => Array.from({ length: count }, (_, n) => ({ n }));

describeBackends('job queue', (backend) => {
  let db: Db;
  let queue: TaskQueue;
  let manager: TaskManager;
  const workersFor = workerStarter(backend, { heartbeatMs: 200, retry: { baseMs: 50, maxMs: 200 } });
  const startWorker = workersFor.start;

  beforeEach(async () => {
    await workersFor.stopAll();
    db = backend.database().db;
    await db.delete(tasks);
    await db.delete(workers);
    await db.delete(records);
    queue = new TaskQueue(backend.database());
    manager = new TaskManager({ database: backend.database(), settings });
  });

  test('claiming moves items queued → running in batches and starts the task; outcomes move the counters', async () => {
    const id = await queue.enqueue({ kind: 'noop', payloads: noops(10) });
    expect((await queue.getTask(id))?.status).toBe('queued');
    const first = await claimItems(db, { workerId: 'w1', queues: ['default'], limit: 4, leaseMs: 30_000 });
    expect(first.map((item) => item.seq)).toEqual([0, 1, 2, 3]);
    expect(first[0]).toMatchObject({ taskId: id, kind: 'noop', attempts: 1, maxAttempts: 3, payload: { n: 0 } });
    expect((await queue.getTask(id))?.status).toBe('running');
    const second = await claimItems(db, { workerId: 'w2', queues: ['default'], limit: 100, leaseMs: 30_000 });
    expect(second.map((item) => item.seq)).toEqual([4, 5, 6, 7, 8, 9]);
    expect(await claimItems(db, { workerId: 'w3', queues: ['default'], limit: 100, leaseMs: 30_000 })).toEqual([]);

    // Only the holder may record an outcome.
    const stolen = await completeItems(db, 'w2', [{ id: first[0]?.id as number, status: 'succeeded' }]);
    expect(stolen.done).toEqual([]);
    await completeItems(
      db,
      'w1',
      first.map((item) => ({ id: item.id, status: 'succeeded' as const, result: { recordUid: `r${item.seq}` } })),
    );
    let status = await manager.getTaskStatus(id, ALL_USERS);
    expect(status.progress).toMatchObject({ completed: 4, succeeded: 4, failed: 0, total: 10, percent: 40 });
    expect(status.ready).toBe(false);

    const last = await completeItems(
      db,
      'w2',
      second.map((item) => ({ id: item.id, status: 'succeeded' as const, result: { recordUid: `r${item.seq}` } })),
    );
    expect(last.finished).toEqual([{ id, status: 'succeeded' }]);
    status = await manager.getTaskStatus(id, ALL_USERS);
    expect(status).toMatchObject({ status: 'succeeded', ready: true, successful: true, error: null });
    expect(status.result?.processedFileIds).toEqual(Array.from({ length: 10 }, (_, n) => `r${n}`));
    // A finished item cannot be finished again (a late worker cannot overwrite it).
    const late = await completeItems(db, 'w1', [
      { id: first[1]?.id as number, status: 'failed', code: 'INTERNAL_ERROR' },
    ]);
    expect(late.done).toEqual([]);
    expect(await queue.countItems(id)).toMatchObject({ succeeded: 10, failed: 0 });
  });

  test('a failed item fails the task with a count, and counters equal the item table', async () => {
    const id = await queue.enqueue({ kind: 'noop', payloads: noops(3) });
    const items = await claimItems(db, { workerId: 'w', queues: ['default'], limit: 3, leaseMs: 30_000 });
    await completeItems(db, 'w', [
      { id: items[0]?.id as number, status: 'succeeded' },
      { id: items[1]?.id as number, status: 'failed', code: 'DOWNLOAD_HTTP_STATUS', message: 'origin said 404' },
      { id: items[2]?.id as number, status: 'succeeded' },
    ]);
    const status = await manager.getTaskStatus(id, ALL_USERS);
    expect(status).toMatchObject({ status: 'failed', ready: true, successful: false });
    expect(status.error).toEqual({ code: 'ITEMS_FAILED', message: '1 of 3 items failed' });
    expect(status.result).toMatchObject({ successfulFiles: 2, totalFiles: 3 });
    const [failed] = (await queue.listItems(id, { status: 'failed' })).items;
    expect(failed).toMatchObject({ errorCode: 'DOWNLOAD_HTTP_STATUS', errorMessage: 'origin said 404', lockedBy: 'w' });
  });

  test('queues and priorities: a worker takes only its queues, higher priority first', async () => {
    await queue.enqueue({ kind: 'noop', payloads: noops(2), queue: 'bulk' });
    const low = await queue.enqueue({ kind: 'noop', payloads: noops(1), priority: 0 });
    const high = await queue.enqueue({ kind: 'noop', payloads: noops(1), priority: 10 });
    const claimed = await claimItems(db, { workerId: 'w', queues: ['default'], limit: 10, leaseMs: 30_000 });
    expect(claimed.map((item) => item.taskId)).toEqual([high, low]);
    expect(claimed.every((item) => item.queue === 'default')).toBe(true);
    await expect(queue.enqueue({ kind: 'noop', payloads: noops(1), queue: 'Bad Name' })).rejects.toThrow(
      FileProcessingError,
    );
  });

  test('enqueue joins the caller transaction: rolled back, it leaves no task and no records', async () => {
    const uid = crypto.randomUUID();
    const failure = db.transaction(async (tx) => {
      await tx.insert(records).values({ uid, mediaType: 'text' });
      await manager.queueRecordGeneration({ scope: ALL_USERS, uids: [uid] }, { tx });
      throw new Error('the caller changed its mind');
    });
    await expect(failure).rejects.toThrow('changed its mind');
    expect(await db.select().from(tasks)).toHaveLength(0);
    expect(await db.select().from(taskItems)).toHaveLength(0);
    expect(await db.select().from(records)).toHaveLength(0);

    const id = await db.transaction(async (tx) => {
      await tx.insert(records).values({ uid, mediaType: 'text' });
      return manager.queueRecordGeneration({ scope: ALL_USERS, uids: [uid] }, { tx });
    });
    expect((await queue.listItems(id)).items.map((item) => item.payload)).toEqual([{ uid }]);
  });

  test('a per-user task limit holds under concurrent enqueues: exactly the limit gets in', async () => {
    const scope = userScope(`racer-${newUid()}`);
    const attempts = await Promise.allSettled(
      Array.from({ length: 12 }, () =>
        manager.queueFileProcessing({ scope, urls: ['https://example.com/a.png'], maxActiveTasksForUser: 3 }),
      ),
    );
    expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(3);
    const refused = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
    expect(refused.map((a) => (a.reason as FileProcessingError).code)).toEqual(Array(9).fill('CONCURRENCY_LIMITED'));
    expect(await manager.activeTaskCount(scope)).toBe(3);
  });

  test('expired leases come back to the queue; past max attempts they fail with LEASE_EXPIRED', async () => {
    const id = await queue.enqueue({ kind: 'noop', payloads: noops(2), maxAttempts: 2 });
    await claimItems(db, { workerId: 'dead', queues: ['default'], limit: 2, leaseMs: 1 });
    await Bun.sleep(20);
    expect(await reapExpiredLeases(db)).toEqual({ requeued: 2, failed: 0 });
    const again = await claimItems(db, { workerId: 'dead-too', queues: ['default'], limit: 2, leaseMs: 1 });
    expect(again.map((item) => item.attempts)).toEqual([2, 2]);
    await Bun.sleep(20);
    expect(await reapExpiredLeases(db)).toEqual({ requeued: 0, failed: 2 });
    const status = await manager.getTaskStatus(id, ALL_USERS);
    expect(status).toMatchObject({ status: 'failed', progress: { failed: 2, total: 2 } });
    expect((await queue.listItems(id)).items[0]?.errorCode).toBe('LEASE_EXPIRED');
  });

  test('cancel: queued items cancelled at once, the counters say so, and a finished task cannot be cancelled', async () => {
    const id = await queue.enqueue({ kind: 'noop', payloads: noops(5) });
    const [running] = await claimItems(db, { workerId: 'w', queues: ['default'], limit: 1, leaseMs: 30_000 });
    expect(await manager.cancelTask(id, ALL_USERS)).toBe(true);
    expect(await manager.cancelTask(id, ALL_USERS)).toBe(false);
    const status = await manager.getTaskStatus(id, ALL_USERS);
    expect(status).toMatchObject({ status: 'cancelled', ready: true, progress: { cancelled: 5, completed: 5 } });
    // The worker that held an item cannot record it any more.
    expect((await completeItems(db, 'w', [{ id: running?.id as number, status: 'succeeded' }])).done).toEqual([]);
    expect(await queue.countItems(id)).toMatchObject({ cancelled: 5, queued: 0, running: 0 });
    expect(await manager.cancelTask(crypto.randomUUID(), ALL_USERS)).toBe(false);
    expect(await manager.cancelTask('not-a-uuid', ALL_USERS)).toBe(false);
  });

  test('a worker burns down a task, retries a transient failure, and reports itself', async () => {
    const seen = new Map<number, number>();
    const worker = await startWorker(
      {
        noop: async (item) => {
          const n = Number(item.payload.n);
          seen.set(n, (seen.get(n) ?? 0) + 1);
          if (n % 10 === 0 && item.attempts === 1) {
            throw new FileProcessingError('origin busy', 'DOWNLOAD_HTTP_STATUS', { transient: true });
          }
          if (n === 7) throw new FileProcessingError('not media', 'FILE_TYPE_NOT_SUPPORTED');
          return { recordUid: `r${n}` };
        },
      },
      { concurrency: 8 },
    );
    const id = await queue.enqueue({ kind: 'noop', payloads: noops(200) });
    const status = await waitFor('the task to finish', async () => {
      const current = await manager.getTaskStatus(id, ALL_USERS);
      return current.ready && current;
    });
    expect(status.progress).toMatchObject({ succeeded: 199, failed: 1, total: 200 });
    expect(status.error?.code).toBe('ITEMS_FAILED');
    expect(seen.size).toBe(200);
    for (const [n, runs] of seen) expect(runs).toBe(n % 10 === 0 ? 2 : 1);
    const [failed] = (await queue.listItems(id, { status: 'failed' })).items;
    expect(failed).toMatchObject({ seq: 7, errorCode: 'FILE_TYPE_NOT_SUPPORTED', attempts: 1 });
    const retried = (await queue.listItems(id, { limit: 200 })).items.filter((item) => item.attempts === 2);
    expect(retried.map((item) => item.seq)).toEqual(Array.from({ length: 20 }, (_, n) => n * 10));
    expect(await queue.countItems(id)).toMatchObject({ succeeded: 199, failed: 1, queued: 0, running: 0 });

    const stats = await waitFor('the heartbeat', async () => {
      const current = await manager.getWorkerStats();
      const me = current.workers.find((w) => w.id === worker.id);
      return me && me.processed === 199 && current;
    });
    expect(stats.workers.find((w) => w.id === worker.id)).toMatchObject({ state: 'online', failed: 1, concurrency: 8 });
    await worker.stop();
    const after = await manager.getWorkerStats();
    expect(after.workers.find((w) => w.id === worker.id)?.state).toBe('stopped');
    expect(after.activeTasks).toBe(0);
  });

  test('cancelling reaches running items: their signal aborts and nothing is recorded for them', async () => {
    let aborted = 0;
    let runningNow = 0;
    await startWorker(
      {
        noop: (_item, ctx) =>
          new Promise((_resolve, reject) => {
            runningNow += 1;
            ctx.signal.addEventListener('abort', () => {
              aborted += 1;
              reject(ctx.signal.reason);
            });
          }),
      },
      { concurrency: 3 },
    );
    const id = await queue.enqueue({ kind: 'noop', payloads: noops(10) });
    await waitFor('three running items', async () => runningNow === 3);
    expect(await manager.cancelTask(id, ALL_USERS)).toBe(true);
    await waitFor('the running items to be aborted', async () => aborted === 3, 5000);
    const status = await manager.getTaskStatus(id, ALL_USERS);
    expect(status).toMatchObject({ status: 'cancelled', progress: { cancelled: 10, succeeded: 0, failed: 0 } });
    await Bun.sleep(300);
    expect(await queue.countItems(id)).toMatchObject({ cancelled: 10, succeeded: 0, failed: 0 });
    expect(runningNow).toBe(3);
  });

  test('soft time limit aborts the item with TASK_SOFT_TIMEOUT; hard limit fails one that ignores its signal', async () => {
    await startWorker(
      {
        noop: (item, ctx) =>
          new Promise((resolve, reject) => {
            if (item.payload.n === 0) ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
            // Item 1 ignores its signal and only finishes much later: its late success must not count.
            else setTimeout(() => resolve({ late: true }), 1500);
          }),
      },
      { softTimeoutMs: 150, hardTimeoutMs: 400, concurrency: 2 },
    );
    const id = await queue.enqueue({ kind: 'noop', payloads: noops(2) });
    const status = await waitFor('both items to time out', async () => {
      const current = await manager.getTaskStatus(id, ALL_USERS);
      return current.ready && current;
    });
    expect(status.progress).toMatchObject({ failed: 2, succeeded: 0 });
    const items = (await queue.listItems(id)).items;
    expect(items.map((item) => item.errorCode)).toEqual(['TASK_SOFT_TIMEOUT', 'TASK_TIMEOUT']);
    await Bun.sleep(1600);
    expect((await queue.listItems(id)).items.map((item) => item.status)).toEqual(['failed', 'failed']);
  });

  test('a worker that lost its lease stops its item and does not write', async () => {
    let aborted = false;
    let finishedAnyway = false;
    await startWorker({
      noop: (_item, ctx) =>
        new Promise((resolve) => {
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
          });
          setTimeout(() => {
            finishedAnyway = true;
            resolve({ fromLoser: true });
          }, 800);
        }),
    });
    const id = await queue.enqueue({ kind: 'noop', payloads: noops(1) });
    const [item] = await waitFor('the item to be claimed', async () => {
      const list = (await queue.listItems(id, { status: 'running' })).items;
      return list.length > 0 && list;
    });
    // Another worker took it over (as after a stall past the lease).
    await db
      .update(taskItems)
      .set({ lockedBy: 'usurper' })
      .where(eq(taskItems.id, item?.id as number));
    await waitFor('the loser to notice', async () => aborted, 5000);
    await waitFor('the handler to return', async () => finishedAnyway, 5000);
    await Bun.sleep(200);
    const [after] = (await queue.listItems(id)).items;
    expect(after).toMatchObject({ status: 'running', lockedBy: 'usurper', result: null });
  });

  test('graceful stop hands unfinished items back without spending an attempt', async () => {
    const worker = await startWorker(
      {
        noop: (_item, ctx) =>
          new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
      },
      { concurrency: 2 },
    );
    const id = await queue.enqueue({ kind: 'noop', payloads: noops(4) });
    await waitFor('two running', async () => (await queue.countItems(id)).running === 2);
    await worker.stop({ graceMs: 100 });
    expect(worker.status).toBe('stopped');
    const items = (await queue.listItems(id)).items;
    expect(items.map((item) => [item.status, item.attempts])).toEqual([
      ['queued', 0],
      ['queued', 0],
      ['queued', 0],
      ['queued', 0],
    ]);
    // Another worker finishes them.
    await startWorker({ noop: async () => ({}) });
    await waitFor(
      'the task to finish elsewhere',
      async () => (await manager.getTaskStatus(id, ALL_USERS)).status === 'succeeded',
    );
  });

  test('workers prune items of tasks finished past the retention period', async () => {
    const id = await queue.enqueue({ kind: 'noop', payloads: noops(2) });
    const fresh = await queue.enqueue({ kind: 'noop', payloads: noops(1) });
    const items = await claimItems(db, { workerId: 'w', queues: ['default'], limit: 3, leaseMs: 30_000 });
    await completeItems(
      db,
      'w',
      items.map((item) => ({ id: item.id, status: 'succeeded' as const, result: { recordUid: `u${item.seq}` } })),
    );
    await db.execute(sql`update tasks set finished_at = now() - interval '2 days' where id = ${id}`);
    await startWorker({ noop: async () => ({}) }, { retentionMs: 86_400_000, pruneEveryMs: 50 });
    await waitFor('the prune', async () => (await queue.listItems(id)).items.length === 0);
    expect((await queue.listItems(fresh)).items).toHaveLength(1);
    expect((await manager.getTaskStatus(id, ALL_USERS)).result?.processedFileIds).toEqual(['u0', 'u1']);
  });

  test('untilIdle: the worker stops by itself when nothing is runnable', async () => {
    const id = await queue.enqueue({ kind: 'noop', payloads: noops(5) });
    const worker = await startWorker({ noop: async () => ({}) }, { untilIdle: true });
    await worker.stopped;
    expect((await manager.getTaskStatus(id, ALL_USERS)).status).toBe('succeeded');
  });

  test('untilIdle: the worker stops once its last item is done, not at its next poll', async () => {
    const id = await queue.enqueue({ kind: 'noop', payloads: noops(3) });
    // Items still running when the queue is found empty: the worker must notice when they are done, not 60 s later.
    const slow = async () => {
      await Bun.sleep(200);
      return {};
    };
    const worker = await startWorker({ noop: slow }, { untilIdle: true, pollMs: 60_000, concurrency: 3 });
    const stopped = await Promise.race([worker.stopped.then(() => true), Bun.sleep(10_000).then(() => false)]);
    expect(stopped).toBe(true);
    expect((await manager.getTaskStatus(id, ALL_USERS)).status).toBe('succeeded');
  });

  test("untilIdle: a user's short items all run, though claims leave the user out while at the cap", async () => {
    // The claim excludes a user holding all but the reserved place; their items may all end while it runs. It
    // returns nothing then, and that is not idle: a worker once stopped here with most of such a task queued.
    const id = await queue.enqueue({ kind: 'noop', payloads: noops(300), userId: 'carol' });
    const worker = await startWorker({ noop: async () => ({}) }, { untilIdle: true, concurrency: 2 });
    await worker.stopped;
    expect((await manager.getTaskStatus(id, ALL_USERS)).status).toBe('succeeded');
  });

  test('task manager: typed errors for bad batches; prune keeps the result exact', async () => {
    const bad = [
      () => manager.queueFileProcessing({ scope: ALL_USERS, urls: [] }),
      () =>
        manager.queueFileProcessing({
          scope: ALL_USERS,
          urls: ['https://example.com/a.png', 'ftp://example.com/b.png'],
        }),
      () => manager.queueFileProcessing({ scope: ALL_USERS, urls: ['http://169.254.169.254/latest/meta-data'] }),
      () =>
        manager.queueFileProcessing({
          scope: ALL_USERS,
          urls: Array.from({ length: 1001 }, (_, n) => `https://example.com/${n}`),
        }),
      () =>
        manager.queueFileProcessing({ scope: ALL_USERS, urls: ['https://example.com/a.png'], options: { quality: 0 } }),
      () => manager.queueRecordGeneration({ scope: ALL_USERS, uids: [crypto.randomUUID()] }),
      () => manager.queueRecordGeneration({ scope: ALL_USERS, uids: ['nope'] }),
      () => manager.queueRecordGeneration({ scope: ALL_USERS, auto: { limit: 5 } }),
      () => manager.getTaskStatus(crypto.randomUUID(), ALL_USERS),
    ];
    const codes = [];
    for (const attempt of bad) {
      const error = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(FileProcessingError);
      codes.push((error as FileProcessingError).code);
    }
    expect(codes).toEqual([
      'INVALID_TASK',
      'URL_NOT_ALLOWED',
      'URL_NOT_ALLOWED',
      'BATCH_TOO_LARGE',
      'INVALID_TASK',
      'RECORD_NOT_FOUND',
      'INVALID_UID',
      'NOTHING_TO_DO',
      'TASK_NOT_FOUND',
    ]);
    expect(await db.select().from(tasks)).toHaveLength(0);

    const id = await queue.enqueue({ kind: 'noop', payloads: noops(3) });
    const items = await claimItems(db, { workerId: 'w', queues: ['default'], limit: 3, leaseMs: 30_000 });
    await completeItems(
      db,
      'w',
      items.map((item) => ({ id: item.id, status: 'succeeded' as const, result: { recordUid: `u${item.seq}` } })),
    );
    const before = await manager.getTaskStatus(id, ALL_USERS);
    expect(await queue.prune(60_000)).toEqual({ tasks: 0, items: 0 });
    await db.execute(sql`update tasks set finished_at = now() - interval '8 days' where id = ${id}`);
    expect(await queue.prune(7 * 86_400_000)).toEqual({ tasks: 1, items: 3 });
    const after = await manager.getTaskStatus(id, ALL_USERS);
    expect(after.result?.processedFileIds).toEqual(before.result?.processedFileIds as string[]);
    expect(after.progress).toEqual(before.progress);
  });
});
