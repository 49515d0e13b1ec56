/** Worker prefetch: items claimed ahead of free slots wait locally, leased, and are handed back or dropped safely. */
import { beforeEach, expect, test } from 'bun:test';
import { ALL_USERS, TaskManager, TaskQueue, tasks, workers } from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import type { Handler } from '@mediaforge/worker';
import { waitFor } from '../support/wait.ts';
import { workerStarter } from '../support/workers.ts';

const settings = { maxBatchSize: 1000, allowHosts: [], maxFileSizeBytes: 1024 * 1024, taskTimeoutMinutes: 30 };
const noops = (count: number) => Array.from({ length: count }, (_, n) => ({ n }));

describeBackends('worker prefetch', (backend) => {
  let queue: TaskQueue;
  let manager: TaskManager;
  const workersFor = workerStarter(backend, { heartbeatMs: 100 });
  const startWorker = (noop: Handler, extra: Parameters<typeof workersFor.start>[1] = {}) =>
    workersFor.start({ noop }, extra);

  beforeEach(async () => {
    await workersFor.stopAll();
    const { db } = backend.database();
    await db.delete(tasks);
    await db.delete(workers);
    queue = new TaskQueue(backend.database());
    manager = new TaskManager({ database: backend.database(), settings });
  });

  test('runs at most `concurrency` handlers while prefetched items wait leased; all finish exactly once', async () => {
    let active = 0;
    let most = 0;
    const seen: number[] = [];
    await startWorker(
      async (item) => {
        active += 1;
        most = Math.max(most, active);
        seen.push(item.payload.n as number);
        await Bun.sleep(3);
        active -= 1;
        return {};
      },
      { concurrency: 2, prefetch: 8 },
    );
    const id = await queue.enqueue({ kind: 'noop', payloads: noops(60) });
    await waitFor(
      'the task to finish',
      async () => (await manager.getTaskStatus(id, ALL_USERS)).status === 'succeeded',
    );
    expect(most).toBe(2);
    expect(seen.sort((a, b) => a - b)).toEqual(noops(60).map(({ n }) => n));
    expect(await queue.countItems(id)).toMatchObject({ succeeded: 60, running: 0, queued: 0 });
  });

  test('an item that yields its slot finishes beside the next: `concurrency` hold slots, up to 3 per slot store', async () => {
    let holding = 0;
    let mostHolding = 0;
    let inFlight = 0;
    let mostInFlight = 0;
    await startWorker(
      async (_item, ctx) => {
        inFlight += 1;
        holding += 1;
        mostHolding = Math.max(mostHolding, holding);
        mostInFlight = Math.max(mostInFlight, inFlight);
        await Bun.sleep(2);
        holding -= 1;
        await ctx.yieldSlot(0);
        await Bun.sleep(40); // storing, while the next items take the slots
        inFlight -= 1;
        return {};
      },
      { concurrency: 2 },
    );
    const id = await queue.enqueue({ kind: 'noop', payloads: noops(40) });
    await waitFor(
      'the task to finish',
      async () => (await manager.getTaskStatus(id, ALL_USERS)).status === 'succeeded',
    );
    expect(mostHolding).toBe(2);
    expect(mostInFlight).toBeGreaterThan(2);
    expect(mostInFlight).toBeLessThanOrEqual(2 * (1 + 3));
    expect(await queue.countItems(id)).toMatchObject({ succeeded: 40, running: 0, queued: 0 });
  });

  test('stop hands back running and prefetched items without spending an attempt', async () => {
    let calls = 0;
    const worker = await startWorker(
      (_item, ctx) => {
        calls += 1;
        return new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
      },
      { concurrency: 2, prefetch: 3 },
    );
    const id = await queue.enqueue({ kind: 'noop', payloads: noops(8) });
    // Two run, three more are claimed and wait: five leased by this worker, three still queued.
    await waitFor('five leased', async () => (await queue.countItems(id)).running === 5);
    await Bun.sleep(300);
    expect(calls).toBe(2);
    expect((await queue.countItems(id)).running).toBe(5);
    await worker.stop({ graceMs: 50 });
    const items = (await queue.listItems(id)).items;
    expect(items.map((item) => [item.status, item.attempts])).toEqual(noops(8).map(() => ['queued', 0]));
    await startWorker(async () => ({}), { prefetch: 4 });
    await waitFor(
      'the task to finish elsewhere',
      async () => (await manager.getTaskStatus(id, ALL_USERS)).status === 'succeeded',
    );
  });

  test('an item whose work finished after a cancel is recorded as succeeded, with its result; one that stopped is not', async () => {
    // The handler of seq 0 keeps going when aborted (an ingest whose record was already committing); seq 1 stops.
    let finish = () => {};
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    let aborted = 0;
    await startWorker(
      async (item, ctx) => {
        ctx.signal.addEventListener('abort', () => {
          aborted += 1;
        });
        if (item.payload.n === 1) {
          await new Promise((_resolve, reject) =>
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
          );
        }
        await done;
        return { recordUid: 'made-anyway' };
      },
      { concurrency: 2 },
    );
    const id = await queue.enqueue({ kind: 'noop', payloads: noops(2) });
    await waitFor('both running', async () => (await queue.countItems(id)).running === 2);
    expect(await queue.cancel(id)).toBe(true);
    await waitFor('both stopped', async () => aborted === 2);
    finish();
    await waitFor('the late success', async () => (await queue.countItems(id)).succeeded === 1);
    const items = (await queue.listItems(id)).items.sort((a, b) => a.seq - b.seq);
    expect(items.map((item) => [item.status, item.result])).toEqual([
      ['succeeded', { recordUid: 'made-anyway' }],
      ['cancelled', null],
    ]);
    const status = await manager.getTaskStatus(id, ALL_USERS);
    expect(status).toMatchObject({ status: 'cancelled', progress: { succeeded: 1, cancelled: 1, total: 2 } });
  });

  test('cancelling a task drops its prefetched items: they never start', async () => {
    let calls = 0;
    await startWorker(
      (_item, ctx) => {
        calls += 1;
        return new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
      },
      { concurrency: 1, prefetch: 4 },
    );
    const id = await queue.enqueue({ kind: 'noop', payloads: noops(5) });
    await waitFor('five leased', async () => (await queue.countItems(id)).running === 5);
    expect(await queue.cancel(id)).toBe(true);
    // The running item's signal aborts; the four waiting ones are dropped, not started in its place.
    await Bun.sleep(500);
    expect(calls).toBe(1);
    expect((await manager.getTaskStatus(id, ALL_USERS)).status).toBe('cancelled');
  });
});
