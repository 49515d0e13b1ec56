/**
 * Schedules on real PostgreSQL with worker processes: a schedule firing every second runs exactly once per tick with
 * three workers and no leader; missed ticks follow the stated policy; hostile input gets typed errors.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import {
  ALL_USERS,
  type Database,
  fireDueSchedules,
  records,
  Schedules,
  scheduleRuns,
  schedules as schedulesTable,
  type TaskManager,
  tasks,
  userScope,
} from '@mediaforge/core';
import { skipPostgres, type TestPostgres } from '@mediaforge/core/testing';
import { asc, eq, sql } from 'drizzle-orm';
import { runMediaforge, tempDir } from '../support/cli.ts';
import { waitFor } from '../support/wait.ts';
import { queueOnPostgres, workerProcesses } from '../support/worker-processes.ts';

/** The sustained window the every-second schedule runs for (SCHEDULE_TEST_SECONDS raises it, e.g. to 60). */
const WINDOW_SECONDS = Number(process.env.SCHEDULE_TEST_SECONDS ?? 25);

describe.skipIf(skipPostgres)('schedules on PostgreSQL', () => {
  let pg: TestPostgres;
  let database: Database;
  let manager: TaskManager;
  let service: Schedules;
  let origin: ReturnType<typeof Bun.serve>;
  let home: string;
  let fleet: ReturnType<typeof workerProcesses>;
  const settings = {
    maxBatchSize: 1000,
    allowHosts: [],
    maxFileSizeBytes: 50 * 1024 * 1024,
    taskTimeoutMinutes: 30,
    schedules: { minIntervalSeconds: 1, maxPerUser: 3, maxUrls: 5 },
  };

  beforeAll(async () => {
    ({ pg, database, manager } = await queueOnPostgres(settings));
    service = new Schedules({ database, settings });
    home = tempDir('mediaforge-schedules-');
    fleet = workerProcesses({ databaseUrl: pg.url, home, objects: join(home, 'objects') });
    origin = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: (request) => new Response(`tick file ${new URL(request.url).pathname}\n`.repeat(20)),
    });
  });

  afterAll(async () => {
    fleet?.killAll();
    origin?.stop(true);
    await database?.close();
    await pg?.drop();
  });

  test(`every second, three worker processes (one SIGKILLed), ${WINDOW_SECONDS} s: each tick fires exactly once`, async () => {
    const schedule = await service.add(ALL_USERS, {
      cron: '* * * * * *',
      action: 'ingest',
      params: { urls: [`http://127.0.0.1:${origin.port}/tick.txt`], allowPrivate: true },
    });
    const first = fleet.spawn(['--concurrency', '4']);
    for (let n = 1; n < 3; n++) fleet.spawn(['--concurrency', '4']);
    await waitFor('the first tick', async () => (await runsOf(schedule.id)).length > 0, 60_000);
    // Halfway through, one worker is SIGKILLed (it may die inside a firing transaction) and replaced.
    await Bun.sleep((WINDOW_SECONDS * 1000) / 2);
    first.kill('SIGKILL');
    fleet.spawn(['--concurrency', '4']);
    await Bun.sleep((WINDOW_SECONDS * 1000) / 2);
    // Freeze the schedule, let the last tasks finish, then stop the workers.
    await database.db.execute(
      sql`update schedules set next_run_at = now() + interval '1 day' where id = ${schedule.id}`,
    );
    const runs = await runsOf(schedule.id);
    const made = await scheduledTasks(schedule.id);
    await waitFor(
      'the scheduled tasks to finish',
      async () => (await scheduledTasks(schedule.id)).every((task) => task.status === 'succeeded'),
      60_000,
    );
    await fleet.stopAll();

    expect(runs.length).toBeGreaterThanOrEqual(WINDOW_SECONDS - 3);
    // One task per tick, each tick once, and every run names its task.
    const ticks = runs.map((run) => run.tick.getTime());
    expect(new Set(ticks).size).toBe(runs.length);
    expect(made.length).toBe(runs.length);
    const taskTicks = made.map((task) => Date.parse(String((task.options.schedule as { tick: string }).tick)));
    expect(new Set(taskTicks)).toEqual(new Set(ticks));
    expect(new Set(runs.map((run) => run.taskId))).toEqual(new Set(made.map((task) => task.id)));
    // No tick went missing: every second from the first due tick on either fired or was counted as skipped (those
    // before the workers had started, and any a busy moment let pass).
    const [row] = await database.db.select().from(schedulesTable).where(eq(schedulesTable.id, schedule.id));
    const beforeFirst = ((ticks[0] as number) - schedule.nextRunAt.getTime()) / 1000;
    const gaps = ticks.slice(1).reduce((sum, tick, n) => sum + (tick - (ticks[n] as number)) / 1000 - 1, 0);
    expect(beforeFirst + gaps).toBe(row?.skipped ?? -1);
    expect(gaps).toBeLessThanOrEqual(Math.ceil(runs.length / 10));
    expect(row?.fired).toBe(runs.length);
    // No leader: whichever worker polls first after a tick takes it; the SIGKILL above left no tick unfired.
    // Every scheduled ingest stored its file once: one record per task.
    const [count] = await database.db.select({ n: sql<number>`count(*)::int` }).from(records);
    expect(Number(count?.n)).toBe(made.length);
    console.log(
      `schedule: ${runs.length} ticks in ~${WINDOW_SECONDS} s, ${made.length} tasks, ${gaps} skipped in the window, ` +
        `fired by ${new Set(runs.map((run) => run.workerId)).size} workers`,
    );
  }, 240_000);

  test('missed ticks: only the latest fires, the rest are counted; concurrent firers take a tick once', async () => {
    const schedule = await service.add(ALL_USERS, { cron: '*/2 * * * * *', action: 'maintenance' });
    // As if no worker ran for 20 s.
    await database.db.execute(
      sql`update schedules set next_run_at = date_trunc('second', now()) - interval '20 seconds' where id = ${schedule.id}`,
    );
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, n) => fireDueSchedules(database.db, manager, `firer-${n}`)),
    );
    expect(results.reduce((sum, r) => sum + r.fired, 0)).toBe(1);
    const runs = await runsOf(schedule.id);
    expect(runs.length).toBe(1);
    const [row] = await database.db.select().from(schedulesTable).where(eq(schedulesTable.id, schedule.id));
    expect(row?.skipped).toBeGreaterThanOrEqual(9);
    expect(row?.skipped).toBeLessThanOrEqual(11);
    expect((row?.nextRunAt.getTime() ?? 0) > Date.now() - 1000).toBe(true);
    // The fired tick is the most recent one that had come, not the first one missed.
    expect(Date.now() - (runs[0]?.tick.getTime() ?? 0)).toBeLessThan(5000);
    await service.remove(schedule.id, ALL_USERS);
  });

  test('a refused enqueue consumes the tick and is kept on the schedule (nothing to do; the user at the task cap)', async () => {
    const nobody = userScope('nobody');
    const schedule = await service.add(nobody, { cron: '* * * * * *', action: 'generate_auto' });
    // Each firing below is for a tick of its own (a tick already run is never run again).
    const due = async () => {
      await Bun.sleep(1100);
      await database.db.execute(
        sql`update schedules set next_run_at = now() - interval '1 second' where id = ${schedule.id}`,
      );
    };
    await due();
    expect((await fireDueSchedules(database.db, manager, 'w')).errors).toBe(1);
    const [run] = await runsOf(schedule.id);
    expect(run?.errorCode).toBe('NOTHING_TO_DO');
    expect(run?.taskId).toBeNull();
    const [row] = await database.db.select().from(schedulesTable).where(eq(schedulesTable.id, schedule.id));
    expect(row?.lastError).toContain('NOTHING_TO_DO');
    // With a record waiting but the user already at API_MAX_ACTIVE_TASKS_PER_USER, the tick is refused, not queued.
    await database.db.insert(records).values({ uid: crypto.randomUUID(), mediaType: 'text', userId: 'nobody' });
    await manager.queue.enqueue({ kind: 'noop', payloads: [{}], userId: 'nobody', queue: 'nobody-queue' });
    await due();
    expect(await fireDueSchedules(database.db, manager, 'w', { maxActiveTasksPerUser: 1 })).toEqual({
      fired: 0,
      lost: 0,
      errors: 1,
      checked: 0,
    });
    expect((await runsOf(schedule.id)).at(-1)?.errorCode).toBe('CONCURRENCY_LIMITED');
    // Past USER_TASK_STORAGE_MB (the noop task above keeps a little input already), refused the same way.
    await due();
    expect(
      await fireDueSchedules(database.db, manager, 'w', { maxActiveTasksPerUser: 2, maxTaskBytesPerUser: 1 }),
    ).toEqual({ fired: 0, lost: 0, errors: 1, checked: 0 });
    expect((await runsOf(schedule.id)).at(-1)?.errorCode).toBe('QUOTA_EXCEEDED');
    await due();
    expect((await fireDueSchedules(database.db, manager, 'w', { maxActiveTasksPerUser: 2 })).fired).toBe(1);
    const last = (await runsOf(schedule.id)).at(-1);
    expect(last?.taskId).not.toBeNull();
    const [task] = await database.db
      .select()
      .from(tasks)
      .where(eq(tasks.id, last?.taskId as string));
    expect(task?.userId).toBe('nobody');
    expect(task?.kind).toBe('generate');
    await service.remove(schedule.id, nobody);
    await manager.cancelTask(task?.id as string, ALL_USERS);
    await database.db.delete(records).where(eq(records.userId, 'nobody'));
  });

  test('a schedule due only for a check (its tick past the horizon) moves on: nothing fires, nothing is recorded', async () => {
    const owner = userScope('checker');
    // The fifth Tuesday of February: 2028-02-29, then 2056.
    const schedule = await service.add(owner, { cron: '0 0 * 2 2#5', action: 'generate_auto' });
    expect(schedule.nextRunAt.toISOString()).toBe('2028-02-29T00:00:00.000Z');
    // As a worker leaves it after firing 2028's tick: due at a check, which is not a tick.
    await database.db.execute(
      sql`update schedules set next_run_at = now() - interval '1 second' where id = ${schedule.id}`,
    );
    expect(await fireDueSchedules(database.db, manager, 'w')).toEqual({ fired: 0, lost: 0, errors: 0, checked: 1 });
    expect(await runsOf(schedule.id)).toEqual([]);
    const [row] = await database.db.select().from(schedulesTable).where(eq(schedulesTable.id, schedule.id));
    expect(row?.nextRunAt.toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(row?.fired).toBe(0);
    await service.remove(schedule.id, owner);
  });

  test('hostile input: typed errors, and another user’s schedule behaves as missing', async () => {
    const alice = userScope('alice');
    const code = async (work: Promise<unknown>) =>
      work.then(
        () => 'ok',
        (error) => (error as { code: string }).code,
      );
    expect(await code(service.add(alice, { cron: 'bogus', action: 'generate_auto' }))).toBe('INVALID_SCHEDULE');
    expect(await code(service.add(alice, { cron: '* * * * *', action: 'generate_auto', timezone: 'Nowhere/X' }))).toBe(
      'INVALID_SCHEDULE',
    );
    const strict = new Schedules({
      database,
      settings: { ...settings, schedules: { ...settings.schedules, minIntervalSeconds: 60 } },
    });
    expect(await code(strict.add(alice, { cron: '*/10 * * * * *', action: 'generate_auto' }))).toBe(
      'SCHEDULE_TOO_FREQUENT',
    );
    expect(await code(service.add(alice, { cron: '* * * * *', action: 'fly' as 'ingest' }))).toBe('INVALID_SCHEDULE');
    expect(await code(service.add(alice, { cron: '* * * * *', action: 'maintenance' }))).toBe('OPTION_NOT_ALLOWED');
    const urls = Array.from({ length: 6 }, (_, n) => `https://example.com/${n}`);
    expect(await code(service.add(alice, { cron: '* * * * *', action: 'ingest', params: { urls } }))).toBe(
      'BATCH_TOO_LARGE',
    );
    // The cheap checks come before the cron walk (which costs milliseconds of the caller's thread): bad params are
    // refused as such, whatever the expression.
    expect(await code(service.add(alice, { cron: '59 23 * 2 5#5', action: 'ingest', params: { urls } }))).toBe(
      'BATCH_TOO_LARGE',
    );
    const local = { urls: ['http://127.0.0.1/x'] };
    expect(await code(service.add(alice, { cron: '* * * * *', action: 'ingest', params: local }))).toBe(
      'URL_NOT_ALLOWED',
    );
    expect(
      await code(service.add(alice, { cron: '* * * * *', action: 'ingest', params: { ...local, allowPrivate: true } })),
    ).toBe('OPTION_NOT_ALLOWED');
    // At most SCHEDULE_MAX_PER_USER (3 here), even when added concurrently.
    const added = await Promise.all(
      Array.from({ length: 6 }, () => code(service.add(alice, { cron: '* * * * *', action: 'generate_auto' }))),
    );
    expect(added.filter((c) => c === 'ok').length).toBe(3);
    expect(added.filter((c) => c === 'TOO_MANY_SCHEDULES').length).toBe(3);
    // At the limit, an add is refused before its expression is walked.
    expect(await code(service.add(alice, { cron: '59 23 * 2 5#5', action: 'generate_auto' }))).toBe(
      'TOO_MANY_SCHEDULES',
    );
    const [mine] = await service.list(alice);
    expect(mine).toBeDefined();
    const bob = userScope('bob');
    expect(await service.list(bob)).toEqual([]);
    expect(await code(service.get(mine?.id as string, bob))).toBe('SCHEDULE_NOT_FOUND');
    expect(await code(service.remove(mine?.id as string, bob))).toBe('SCHEDULE_NOT_FOUND');
    expect(await code(service.runs(mine?.id as string, bob))).toBe('SCHEDULE_NOT_FOUND');
    expect(await code(service.remove('not-a-uuid', alice))).toBe('SCHEDULE_NOT_FOUND');
    expect((await service.get(mine?.id as string, alice)).id).toBe(mine?.id as string);
  });

  test('CLI: schedules add|list|remove with --json; a bad expression exits 2 with its code', async () => {
    const env = { DATABASE_URL: pg.url, MEDIAFORGE_HOME: home, SCHEDULE_MIN_INTERVAL_SECONDS: '60' };
    const bad = await runMediaforge(['schedules', 'add', '--cron', '61 * * * *', '--action', 'generate_auto'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('INVALID_SCHEDULE');
    const often = await runMediaforge(['schedules', 'add', '--cron', '* * * * * *', '--action', 'maintenance'], {
      env,
    });
    expect(often.code).toBe(2);
    expect(often.stderr).toContain('SCHEDULE_TOO_FREQUENT');
    const added = await runMediaforge(
      ['schedules', 'add', '--cron', '*/5 * * * *', '--action', 'maintenance', '--name', 'prune', '--json'],
      { env },
    );
    expect(added.code).toBe(0);
    const { id } = JSON.parse(added.stdout) as { id: string };
    const listed = await runMediaforge(['schedules', 'list', '--json'], { env });
    expect((JSON.parse(listed.stdout) as { schedules: { id: string; name: string }[] }).schedules).toContainEqual(
      expect.objectContaining({ id, name: 'prune' }),
    );
    expect((await runMediaforge(['schedules', 'remove', id, '--json'], { env })).code).toBe(0);
    const again = await runMediaforge(['schedules', 'remove', id], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('SCHEDULE_NOT_FOUND');
    expect((await runMediaforge(['schedules', '--help'], { env })).stdout).toContain('add');
  });

  const runsOf = (id: string) =>
    database.db.select().from(scheduleRuns).where(eq(scheduleRuns.scheduleId, id)).orderBy(asc(scheduleRuns.tick));
  const scheduledTasks = (id: string) =>
    database.db.select().from(tasks).where(sql`${tasks.options} -> 'schedule' ->> 'id' = ${id}`);
});
