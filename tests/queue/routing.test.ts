/**
 * Routing and per-task limits with worker processes on real PostgreSQL: `maxConcurrent` holds across three workers
 * (sampled from the database), flags land in the task, a worker restricted to queues takes only those (and the
 * seed's three queues each get work), per-task time limits override the global ones, downloads are capped per
 * origin, and optimization saves bytes on real images through the one file pipeline.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  ALL_USERS,
  type Database,
  objects,
  queueOptimization,
  records,
  type TaskManager,
  taskItems,
  tasks,
} from '@mediaforge/core';
import { requireTool, skipPostgres, type TestPostgres } from '@mediaforge/core/testing';
import { and, eq, sql } from 'drizzle-orm';
import { runMediaforge, tempDir } from '../support/cli.ts';
import { waitFor } from '../support/wait.ts';
import { queueOnPostgres, workerProcesses } from '../support/worker-processes.ts';

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe.skipIf(skipPostgres)('routing and limits with worker processes', () => {
  let pg: TestPostgres;
  let database: Database;
  let manager: TaskManager;
  let origin: ReturnType<typeof Bun.serve>;
  let home: string;
  let objectsDir: string;
  let fleet: ReturnType<typeof workerProcesses>;
  let photo: Uint8Array;
  /** Requests for `/capped/…` in flight at the origin now, and the most seen at once. */
  const inflight = { now: 0, max: 0 };

  beforeAll(async () => {
    ({ pg, database, manager } = await queueOnPostgres());
    home = tempDir('mediaforge-routing-');
    objectsDir = join(home, 'objects');
    fleet = workerProcesses({ databaseUrl: pg.url, home, objects: objectsDir });
    // A photo-like JPEG at quality 100: recompression at 80 makes it clearly smaller.
    const jpeg = join(home, 'plasma.jpg');
    const made = Bun.spawnSync([
      requireTool('/usr/bin/convert'),
      '-seed',
      '7',
      '-size',
      '320x240',
      'plasma:fractal',
      '-quality',
      '100',
      jpeg,
    ]);
    expect(made.exitCode).toBe(0);
    photo = await Bun.file(jpeg).bytes();
    origin = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      async fetch(request) {
        const url = new URL(request.url);
        const counted = url.pathname.startsWith('/capped');
        if (counted) inflight.now += 1;
        inflight.max = Math.max(inflight.max, inflight.now);
        try {
          await Bun.sleep(Number(url.searchParams.get('delay') ?? 0));
          if (url.pathname.startsWith('/photo'))
            return new Response(new Blob([photo as Uint8Array<ArrayBuffer>]), {
              headers: { 'content-type': 'image/jpeg' },
            });
          return new Response(`${url.pathname}\n`.repeat(50), { headers: { 'content-type': 'text/plain' } });
        } finally {
          if (counted) inflight.now -= 1;
        }
      },
    });
  });

  afterAll(async () => {
    fleet?.killAll();
    origin?.stop(true);
    await database?.close();
    await pg?.drop();
  });

  const urls = (count: number, delay: number, path = 'f') =>
    Array.from({ length: count }, (_, n) => `http://127.0.0.1:${origin.port}/${path}/${n}?delay=${delay}`);
  const finished = (id: string, timeoutMs = 90_000) =>
    waitFor(
      `task ${id}`,
      async () => {
        const status = await manager.getTaskStatus(id, ALL_USERS);
        return status.ready && status;
      },
      timeoutMs,
    );
  const running = async (id: string) => {
    const [row] = await database.db
      .select({ n: sql<number>`count(*)::int` })
      .from(taskItems)
      .where(and(eq(taskItems.taskId, id), eq(taskItems.status, 'running')));
    return Number(row?.n ?? 0);
  };

  test('maxConcurrent 2 is never exceeded with three workers (sampled from the database)', async () => {
    const capped = await manager.queueFileProcessing({
      scope: ALL_USERS,
      urls: urls(24, 400),
      options: { allowPrivate: true, maxConcurrent: 2 },
    });
    const free = await manager.queueFileProcessing({
      scope: ALL_USERS,
      urls: urls(24, 400, 'g'),
      options: { allowPrivate: true },
    });
    for (let n = 0; n < 3; n++) fleet.spawn(['--concurrency', '4']);
    let max = 0;
    let maxFree = 0;
    let samples = 0;
    let seenInStats = 0;
    while (!(await manager.getTaskStatus(capped, ALL_USERS)).ready) {
      max = Math.max(max, await running(capped));
      maxFree = Math.max(maxFree, await running(free));
      if (samples % 10 === 0) {
        const stats = await manager.getWorkerStats();
        const entry = stats.activeItems.byTask.find((task) => task.taskId === capped);
        if (entry) {
          expect(entry.running).toBeLessThanOrEqual(2);
          expect(entry.maxConcurrent).toBe(2);
          seenInStats += 1;
        }
        const perWorker = stats.workers.reduce((sum, worker) => sum + worker.activeItems, 0);
        expect(perWorker).toBe(stats.activeItems.total);
      }
      samples += 1;
      await Bun.sleep(20);
    }
    const status = await finished(capped);
    expect(status.progress.succeeded).toBe(24);
    expect(max).toBe(2);
    expect(samples).toBeGreaterThan(50);
    expect(seenInStats).toBeGreaterThan(0);
    // The cap is the task's own: the uncapped task beside it ran wider.
    expect(maxFree).toBeGreaterThan(2);
    await finished(free);
    // Items of the capped task were spread over more than one worker.
    const holders = await database.db
      .selectDistinct({ worker: taskItems.lockedBy })
      .from(taskItems)
      .where(eq(taskItems.taskId, capped));
    expect(holders.length).toBeGreaterThanOrEqual(2);
    console.log(`maxConcurrent 2: ${samples} samples, at most ${max} running; uncapped beside it: ${maxFree}`);
    await fleet.stopAll();
  }, 180_000);

  test('routing flags land in the task; a worker on the seed’s three queues takes only those, each with work', async () => {
    const env = { DATABASE_URL: pg.url, MEDIAFORGE_HOME: home, STORAGE_URL: `file://${objectsDir}` };
    const cli = await runMediaforge(
      [
        'ingest',
        '--background',
        '--allow-private',
        '--no-compress',
        '--json',
        '--queue',
        'file_processing',
        '--priority',
        '7',
        '--max-attempts',
        '2',
        '--soft-timeout',
        '600',
        '--timeout',
        '900',
        '--max-concurrent',
        '3',
        `http://127.0.0.1:${origin.port}/photo/1.jpg`,
      ],
      { env },
    );
    expect(cli.code).toBe(0);
    const { taskId } = JSON.parse(cli.stdout) as { taskId: string };
    const [task] = await database.db.select().from(tasks).where(eq(tasks.id, taskId));
    expect(task?.queue).toBe('file_processing');
    expect(task?.priority).toBe(7);
    expect(task?.maxAttempts).toBe(2);
    expect(task?.options.limits).toEqual({ softTimeoutMs: 600_000, timeoutMs: 900_000, maxConcurrent: 3 });
    const [item] = await database.db.select().from(taskItems).where(eq(taskItems.taskId, taskId));
    expect(item?.queue).toBe('file_processing');
    expect(item?.maxConcurrent).toBe(3);
    // Without --background the flags are refused, not ignored.
    const inline = await runMediaforge(['ingest', '--queue', 'x', 'http://127.0.0.1/'], { env });
    expect(inline.code).toBe(2);

    const elsewhere = await manager.queueFileProcessing({
      scope: ALL_USERS,
      urls: urls(2, 0),
      options: { allowPrivate: true },
      queue: 'video',
    });
    const maintenance = await manager.queueMaintenance();
    const seed = fleet.spawn(['--queues', 'file_processing,maintenance,optimization', '--concurrency', '2']);
    expect((await finished(taskId)).successful).toBe(true);
    expect((await finished(maintenance)).successful).toBe(true);
    const [photoRecord] = await database.db.select().from(records).where(eq(records.mediaType, 'image'));
    expect(photoRecord?.fileSize).toBe(photo.byteLength);
    const optimization = await queueOptimization(manager, database, 1000, { scope: ALL_USERS }).catch(
      (error) => (error as { code: string }).code,
    );
    expect(optimization).toBe('INVALID_TASK');
    // Optimization of everything the (admin) scope owns without a user: name the owner-less generation instead.
    await database.db
      .update(records)
      .set({ generationId: 'gen-1' })
      .where(eq(records.uid, photoRecord?.uid as string));
    const optimize = await queueOptimization(manager, database, 1000, { scope: ALL_USERS, generationId: 'gen-1' });
    const [optimizeTask] = await database.db.select().from(tasks).where(eq(tasks.id, optimize));
    expect(optimizeTask?.queue).toBe('optimization');
    expect((await finished(optimize)).successful).toBe(true);
    const [maintenanceTask] = await database.db.select().from(tasks).where(eq(tasks.id, maintenance));
    expect(maintenanceTask?.queue).toBe('maintenance');
    // Each of the three queues' tasks was done by the seed's worker; the `video` task was never touched.
    const stats = await manager.getWorkerStats();
    const me = stats.workers.find((worker) => worker.pid === seed.pid);
    for (const id of [taskId, maintenance, optimize]) {
      const done = await database.db.select().from(taskItems).where(eq(taskItems.taskId, id));
      expect(done.every((row) => row.lockedBy === me?.id)).toBe(true);
    }
    const untouched = await manager.getTaskStatus(elsewhere, ALL_USERS);
    expect(untouched.status).toBe('queued');
    expect(await running(elsewhere)).toBe(0);

    // The optimization: bytes saved, a fresh write-once object, sha256 and objects consistent.
    const [result] = await database.db.select().from(taskItems).where(eq(taskItems.taskId, optimize));
    expect(result?.result?.outcome).toBe('optimized');
    const saved = Number(result?.result?.bytesSaved);
    expect(saved).toBeGreaterThan(photo.byteLength / 4);
    const [after] = await database.db
      .select()
      .from(records)
      .where(eq(records.uid, photoRecord?.uid as string));
    expect(after?.storageKey).not.toBe(photoRecord?.storageKey as string);
    expect(after?.fileSize).toBe(photo.byteLength - saved);
    const stored = await Bun.file(join(objectsDir, after?.storageKey as string)).bytes();
    expect(stored.byteLength).toBe(after?.fileSize as number);
    expect(sha(stored)).toBe(after?.sha256 as string);
    expect(after?.metadata.optimized).toEqual(
      expect.objectContaining({ from: photo.byteLength, to: stored.byteLength }),
    );
    // Still the file it was named for, with a thumbnail of the new bytes (the worker makes thumbnails by default).
    expect(photoRecord?.originalName).toBe('1.jpg');
    expect(after?.originalName).toBe('1.jpg');
    expect(photoRecord?.thumbnailKey).toStartWith('thumbnails/');
    expect(after?.thumbnailKey).not.toBe(photoRecord?.thumbnailKey as string);
    expect(after?.metadata.thumbnail).toEqual(
      expect.objectContaining({ key: after?.thumbnailKey, sourceSha256: after?.sha256 }),
    );
    const [fresh] = await database.db
      .select()
      .from(objects)
      .where(eq(objects.key, after?.storageKey as string));
    expect(fresh?.refs).toBe(1);
    expect(fresh?.sha256).toBe(after?.sha256 as string);
    const [old] = await database.db
      .select()
      .from(objects)
      .where(eq(objects.key, photoRecord?.storageKey as string));
    expect(old?.refs).toBe(0);
    expect(old?.state).not.toBe('live');
    expect(existsSync(join(objectsDir, photoRecord?.storageKey as string))).toBe(false);
    const identify = Bun.spawnSync(['identify', join(objectsDir, after?.storageKey as string)]);
    expect(identify.exitCode).toBe(0);
    expect(identify.stdout.toString()).toContain('320x240');
    // A second run at the same quality leaves it alone (no generation loss from recompressing again).
    const again = await queueOptimization(manager, database, 1000, { scope: ALL_USERS, generationId: 'gen-1' });
    await finished(again);
    const [second] = await database.db.select().from(taskItems).where(eq(taskItems.taskId, again));
    expect(second?.result?.outcome).toBe('unchanged');
    const [same] = await database.db
      .select()
      .from(records)
      .where(eq(records.uid, photoRecord?.uid as string));
    expect(same?.storageKey).toBe(after?.storageKey as string);
    console.log(`optimization: ${photo.byteLength} → ${stored.byteLength} bytes (saved ${saved})`);
    await fleet.stopAll();
    await manager.cancelTask(elsewhere, ALL_USERS);
  }, 180_000);

  test('a per-task soft timeout overrides the global one; downloads are capped per origin', async () => {
    inflight.max = 0;
    const slow = await manager.queueFileProcessing({
      scope: ALL_USERS,
      urls: urls(1, 4000, 'slow'),
      options: { allowPrivate: true },
      softTimeoutMs: 1000,
      maxAttempts: 1,
    });
    const many = await manager.queueFileProcessing({
      scope: ALL_USERS,
      urls: urls(12, 300, 'capped'),
      options: { allowPrivate: true },
    });
    fleet.spawn(['--concurrency', '8'], { DOWNLOAD_CONCURRENCY_PER_ORIGIN: '2' });
    const status = await finished(slow);
    expect(status.successful).toBe(false);
    const [item] = await database.db.select().from(taskItems).where(eq(taskItems.taskId, slow));
    expect(item?.errorCode).toBe('TASK_SOFT_TIMEOUT');
    expect(item?.errorMessage).toContain('1.0 s');
    expect((await finished(many)).progress.succeeded).toBe(12);
    // One origin, a cap of 2 per worker process, 8 slots in the worker: never more than 2 downloads at once.
    expect(inflight.max).toBe(2);
    await fleet.stopAll();
  }, 120_000);
});
