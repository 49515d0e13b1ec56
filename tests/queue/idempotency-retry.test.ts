/**
 * Idempotency keys and retrying failed items on real PostgreSQL: concurrent identical enqueues from several
 * connection pools yield one task; a different request under the same key is refused; a failed task becomes a
 * succeeded one once its origin recovers; another user's task cannot be retried or seen in the dead letters.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import {
  ALL_USERS,
  type Database,
  listDeadLetters,
  openDatabase,
  retryTask,
  TaskManager,
  tasks,
  userScope,
} from '@mediaforge/core';
import { createTestPostgres, skipPostgres, type TestPostgres } from '@mediaforge/core/testing';
import { sql } from 'drizzle-orm';
import { tempDir } from '../support/cli.ts';
import { spawnWorkerProcess } from '../support/origins.ts';
import { waitFor } from '../support/wait.ts';

const settings = { maxBatchSize: 1000, allowHosts: [], maxFileSizeBytes: 1024 * 1024, taskTimeoutMinutes: 30 };

describe.skipIf(skipPostgres)('idempotency keys and retries on PostgreSQL', () => {
  let pg: TestPostgres;
  const databases: Database[] = [];
  let manager: TaskManager;
  let origin: ReturnType<typeof Bun.serve>;
  let recovered = false;
  let child: ReturnType<typeof Bun.spawn> | undefined;

  beforeAll(async () => {
    pg = await createTestPostgres();
    for (let n = 0; n < 3; n++) databases.push(await openDatabase({ url: pg.url }));
    await databases[0]?.migrate();
    manager = new TaskManager({ database: databases[0] as Database, settings });
    origin = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: (request) =>
        new URL(request.url).pathname.startsWith('/flaky') && !recovered
          ? new Response('down', { status: 404 })
          : new Response(`file ${new URL(request.url).pathname}\n`.repeat(20)),
    });
    const home = tempDir('mediaforge-retry-');
    child = spawnWorkerProcess(pg.url, home, ['--lease', '2']);
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    origin?.stop(true);
    for (const database of databases) await database.close();
    await pg?.drop();
  });

  const urls = (path: string, count = 2) =>
    Array.from({ length: count }, (_, n) => `http://127.0.0.1:${origin.port}/${path}/${n}`);
  const finished = (taskId: string) =>
    waitFor(
      `task ${taskId} to finish`,
      async () => {
        const status = await manager.getTaskStatus(taskId, ALL_USERS);
        return status.ready && status;
      },
      60_000,
    );

  test('concurrent identical enqueues from three pools yield one task; another owner gets its own', async () => {
    const managers = databases.map((database) => new TaskManager({ database, settings }));
    const request = {
      urls: urls('same'),
      scope: userScope('alice'),
      options: { allowPrivate: true },
      idempotencyKey: 'batch-2026-11-27',
    };
    const ids = await Promise.all(
      Array.from({ length: 30 }, (_, n) => managers[n % 3]?.queueFileProcessing({ ...request })),
    );
    expect(new Set(ids).size).toBe(1);
    const owned = await databases[0]?.db.select().from(tasks);
    expect(owned?.filter((task) => task.userId === 'alice')).toHaveLength(1);
    const bobs = await manager.queueFileProcessing({ ...request, scope: userScope('bob') });
    expect(bobs).not.toBe(ids[0]);
    await finished(ids[0] as string);
    // Still the same task after it finished (within the retention window).
    expect(await manager.queueFileProcessing({ ...request })).toBe(ids[0] as string);
  });

  test('the same key with a different request is refused with IDEMPOTENCY_KEY_REUSED; expired keys name nothing', async () => {
    const base = { urls: urls('k'), scope: userScope('alice'), options: { allowPrivate: true }, idempotencyKey: 'k1' };
    const first = await manager.queueFileProcessing(base);
    await expect(manager.queueFileProcessing({ ...base, urls: urls('other') })).rejects.toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
      details: { taskId: first },
    });
    await expect(manager.queueFileProcessing({ ...base, priority: 5 })).rejects.toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
    await expect(manager.queueFileProcessing({ ...base, idempotencyKey: 'has space' })).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
    });
    // After the retention window (24 h, by the database clock) the key names nothing: a new request makes a new task.
    await databases[0]?.db.execute(sql`update task_idempotency set created_at = now() - interval '25 hours'`);
    const later = await manager.queueFileProcessing({ ...base, urls: urls('other') });
    expect(later).not.toBe(first);
    expect(await manager.queueFileProcessing({ ...base, urls: urls('other') })).toBe(later);
  });

  test('retry turns a failed task into a succeeded one once the origin recovers; owners only', async () => {
    const taskId = await manager.queueFileProcessing({
      urls: urls('flaky', 3),
      scope: userScope('alice'),
      options: { allowPrivate: true },
      maxAttempts: 1,
    });
    const failed = await finished(taskId);
    expect(failed.status).toBe('failed');
    expect(failed.progress.failed).toBe(3);

    const dead = (await listDeadLetters(databases[0]?.db as Database['db'], userScope('alice'), { taskId })).items;
    expect(dead).toHaveLength(3);
    expect(dead[0]).toMatchObject({ taskId, errorCode: 'DOWNLOAD_HTTP_STATUS', attempts: 1, maxAttempts: 1 });
    expect((await listDeadLetters(databases[0]?.db as Database['db'], userScope('bob'))).items).toHaveLength(0);

    const db = databases[0]?.db as Database['db'];
    await expect(retryTask(db, taskId, userScope('bob'))).rejects.toMatchObject({ code: 'TASK_NOT_FOUND' });
    recovered = true;
    expect(await retryTask(db, taskId, userScope('alice'), { failedOnly: true })).toEqual({ taskId, requeued: 3 });
    const after = await finished(taskId);
    expect(after.status).toBe('succeeded');
    expect(after.progress).toMatchObject({ succeeded: 3, failed: 0, total: 3 });
    expect(await manager.queue.countItems(taskId)).toMatchObject({ succeeded: 3, failed: 0 });
    expect((await listDeadLetters(db, ALL_USERS, { taskId })).items).toHaveLength(0);
    await expect(retryTask(db, taskId, ALL_USERS)).rejects.toMatchObject({ code: 'NOTHING_TO_DO' });
  });
});
