/**
 * Worker processes sharing tasks on real PostgreSQL, a real loopback HTTP origin and the local-disk store:
 * every item done exactly once, a SIGKILLed worker's items finish elsewhere, SIGTERM drains, cancel stops
 * running work in other processes.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  ALL_USERS,
  type Database,
  itemsByWorker,
  openDatabase,
  records,
  sweepObjects,
  TaskManager,
  taskItems,
  tasks,
} from '@mediaforge/core';
import { createTestPostgres, skipPostgres, type TestPostgres } from '@mediaforge/core/testing';
import { createFileStore } from '@mediaforge/storage';
import { and, eq, sql } from 'drizzle-orm';
import { CLI_MAIN, tempDir } from '../support/cli.ts';
import { waitFor as waitWithin } from '../support/wait.ts';

const WORKER_MAIN = join(import.meta.dir, '../../packages/worker/src/main.ts');
const content = (n: number) => `item ${n}: ${'mediaforge queue test line\n'.repeat(40)}`;
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
/** Processes start slowly: a minute by default. */
const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000) =>
  waitWithin(what, probe, timeoutMs);

describe.skipIf(skipPostgres)('worker processes on PostgreSQL', () => {
  let pg: TestPostgres;
  let database: Database;
  let manager: TaskManager;
  let origin: ReturnType<typeof Bun.serve>;
  let objects: string;
  let home: string;
  const children: ReturnType<typeof Bun.spawn>[] = [];

  beforeAll(async () => {
    pg = await createTestPostgres();
    database = await openDatabase({ url: pg.url });
    await database.migrate();
    manager = new TaskManager({
      database,
      settings: { maxBatchSize: 1000, allowHosts: [], maxFileSizeBytes: 50 * 1024 * 1024, taskTimeoutMinutes: 30 },
    });
    home = tempDir('mediaforge-workers-');
    objects = join(home, 'objects');
    // `/f/N?delay=ms` answers after `delay`, so items can be caught in flight.
    origin = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      async fetch(request) {
        const url = new URL(request.url);
        const n = Number(url.pathname.split('/').pop());
        const delay = Number(url.searchParams.get('delay') ?? 0);
        if (delay) await Bun.sleep(delay);
        return new Response(content(n), { headers: { 'content-type': 'text/plain; charset=utf-8' } });
      },
    });
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    origin?.stop(true);
    await database?.close();
    await pg?.drop();
  });

  const spawnWorker = (name: string, via: 'package' | 'cli' = 'package', concurrency = 8) => {
    const entry = via === 'package' ? [WORKER_MAIN] : [CLI_MAIN, 'worker'];
    const child = Bun.spawn(
      [process.execPath, ...entry, '--concurrency', String(concurrency), '--lease', '2', '--grace', '5'],
      {
        env: {
          ...process.env,
          DATABASE_URL: pg.url,
          STORAGE_URL: `file://${objects}`,
          MEDIAFORGE_HOME: home,
          LOG_LEVEL: 'warn',
          MEDIAFORGE_TEST_WORKER: name,
        },
        stdout: 'ignore',
        stderr: 'pipe',
        stdin: 'ignore',
      },
    );
    children.push(child);
    return child;
  };

  /** Stops every worker of earlier tests and forgets the records they made. */
  const reset = async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await database.db.delete(records);
  };

  const urls = (count: number, delay = 0) =>
    Array.from({ length: count }, (_, n) => `http://127.0.0.1:${origin.port}/f/${n}${delay ? `?delay=${delay}` : ''}`);

  const finished = (id: string) =>
    waitFor(
      `task ${id} to finish`,
      async () => {
        const status = await manager.getTaskStatus(id, ALL_USERS);
        return status.ready && status;
      },
      120_000,
    );

  /** Every succeeded item has exactly one record, whose object holds the origin's bytes. */
  async function checkExactlyOnce(id: string) {
    const items = await database.db.select().from(taskItems).where(eq(taskItems.taskId, id));
    const made = await database.db.select().from(records);
    const byUid = new Map(made.map((record) => [record.uid, record]));
    for (const item of items.filter((i) => i.status === 'succeeded')) {
      const record = byUid.get(String(item.payload.uid));
      expect(record).toBeDefined();
      expect(item.result?.recordUid).toBe(item.payload.uid as string);
      const n = Number(String(item.payload.url).split('/').pop()?.split('?')[0]);
      expect(record?.sha256).toBe(sha(content(n)));
      const stored = await Bun.file(join(objects, record?.storageKey as string)).text();
      expect(sha(stored)).toBe(sha(content(n)));
    }
    return { items, records: made };
  }

  test('three processes share a 1000-URL task, one is SIGKILLed mid-run: every item done exactly once', async () => {
    await reset();
    const id = await manager.queueFileProcessing({
      scope: ALL_USERS,
      urls: urls(1000, 30),
      options: { allowPrivate: true },
    });
    const a = spawnWorker('a');
    spawnWorker('b');
    spawnWorker('c', 'cli');
    // Kill A once it is holding items.
    const victim = await waitFor('worker a to hold items', async () => {
      const me = (await manager.getWorkerStats()).workers.find((w) => w.pid === a.pid);
      if (!me || (await manager.getTaskStatus(id, ALL_USERS)).progress.completed < 50) return false;
      const held = await database.db
        .select()
        .from(taskItems)
        .where(and(eq(taskItems.status, 'running'), eq(taskItems.lockedBy, me.id)));
      return held.length > 0 && me;
    });
    a.kill('SIGKILL');
    await a.exited;
    // Progress is exact throughout: the task's counters equal the item table in every snapshot.
    let samples = 0;
    const status = await waitFor(
      'the task to finish',
      async () => {
        // postgres-js returns the rows as an array.
        const [row] = (await database.db.execute(sql`
          select t.succeeded = count(*) filter (where i.status = 'succeeded')
                 and t.failed = count(*) filter (where i.status = 'failed') as exact,
                 t.status = 'succeeded' as done
          from tasks t join task_items i on i.task_id = t.id where t.id = ${id} group by t.id`)) as unknown as {
          exact: boolean;
          done: boolean;
        }[];
        expect(row?.exact).toBe(true);
        samples += 1;
        return row?.done && (await manager.getTaskStatus(id, ALL_USERS));
      },
      120_000,
    );
    expect(samples).toBeGreaterThan(3);
    expect(status.progress).toMatchObject({ succeeded: 1000, failed: 0, total: 1000 });
    expect(status.status).toBe('succeeded');

    const { items, records: made } = await checkExactlyOnce(id);
    expect(made).toHaveLength(1000);
    expect(new Set(made.map((record) => record.uid)).size).toBe(1000);
    // An item killed between its store write and its record leaves an unreferenced object (never a record pointing
    // at wrong bytes); the maintenance sweep removes it, leaving exactly one object per record.
    const files = () => readdirSync(join(objects, 'text')).filter((name) => !name.startsWith('.'));
    expect(files().length).toBeGreaterThanOrEqual(1000);
    await sweepObjects(database.db, createFileStore({ root: objects }), { graceMs: 0 });
    expect(files().sort()).toEqual(made.map((record) => (record.storageKey as string).slice('text/'.length)).sort());
    // The killed worker's items came back after its lease expired and were finished by the others.
    const retried = items.filter((item) => item.attempts > 1);
    expect(retried.length).toBeGreaterThan(0);
    expect(retried.every((item) => item.lockedBy !== victim.id)).toBe(true);
    const byWorker = await itemsByWorker(database.db, id);
    expect(byWorker.length).toBeGreaterThanOrEqual(3);
    expect(byWorker.reduce((sum, w) => sum + w.succeeded, 0)).toBe(1000);
    expect(await manager.queue.countItems(id)).toMatchObject({ succeeded: 1000, queued: 0, running: 0 });
    // `mediaforge workers` shows who did what: each live worker's count matches the items it finished.
    const done = new Map(byWorker.map((w) => [w.workerId, w.succeeded]));
    await waitFor('the live workers to report their counts', async () => {
      const live = (await manager.getWorkerStats()).workers.filter((w) => w.id !== victim.id);
      return live.length === 2 && live.every((w) => w.processed === done.get(w.id));
    });
  }, 180_000);

  test('cancel stops work running in other processes within seconds; counters stay exact', async () => {
    await reset();
    spawnWorker('d');
    spawnWorker('e');
    const id = await manager.queueFileProcessing({
      scope: ALL_USERS,
      urls: urls(200, 400),
      options: { allowPrivate: true },
    });
    await waitFor('items in flight', async () => (await manager.getTaskStatus(id, ALL_USERS)).progress.completed > 20);
    expect(await manager.cancelTask(id, ALL_USERS)).toBe(true);
    const cancelledAt = Date.now();
    await waitFor(
      'the workers to drop the cancelled items',
      async () => {
        const alive = new Set(children.filter((child) => child.exitCode === null).map((child) => child.pid));
        const workers = (await manager.getWorkerStats()).workers.filter((w) => alive.has(w.pid));
        return workers.length === 2 && workers.every((w) => w.active === 0);
      },
      10_000,
    );
    expect(Date.now() - cancelledAt).toBeLessThan(10_000);
    const counts = await manager.queue.countItems(id);
    const [task] = await database.db.select().from(tasks).where(eq(tasks.id, id));
    expect(counts.queued + counts.running).toBe(0);
    expect(task).toMatchObject({
      status: 'cancelled',
      succeeded: counts.succeeded,
      failed: counts.failed,
      cancelled: counts.cancelled,
    });
    expect(counts.succeeded + counts.failed + counts.cancelled).toBe(200);
    expect(counts.cancelled).toBeGreaterThan(0);
    await checkExactlyOnce(id);
  }, 60_000);

  test('SIGTERM drains a worker: it exits 0, and nothing it held is lost', async () => {
    await reset();
    const id = await manager.queueFileProcessing({
      scope: ALL_USERS,
      urls: urls(40, 1500),
      options: { allowPrivate: true },
    });
    const worker = spawnWorker('draining', 'package', 4);
    await waitFor('four running', async () => (await manager.queue.countItems(id)).running === 4);
    worker.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    const counts = await manager.queue.countItems(id);
    expect(counts.running).toBe(0);
    expect(counts.succeeded).toBe(4);
    spawnWorker('after', 'package', 16);
    const status = await finished(id);
    expect(status.progress.succeeded).toBe(40);
    const { records: made } = await checkExactlyOnce(id);
    expect(made).toHaveLength(40);
  }, 120_000);
});
