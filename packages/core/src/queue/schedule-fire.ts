/**
 * Fires due schedules, exactly once per tick with no leader: every worker polls, and a tick is taken by the one
 * statement that moves the schedule's `next_run_at` on from the value it read (`where next_run_at = $due`). The task
 * is enqueued and the tick recorded (primary key: schedule, tick) in that same transaction, so a crash between the
 * two leaves the tick for another worker, and no tick can run twice.
 *
 * Missed ticks (no worker ran, or all were busy): only the most recent tick that has come is fired; the earlier ones
 * are counted in `skipped`. A tick whose enqueue is refused (nothing to generate, a user at the task limit) is
 * still consumed, with the refusal kept on the schedule and the run.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import type { ScheduleAction } from '../db/schedule-schema.ts';
import { FileProcessingError } from '../errors.ts';
import { ALL_USERS, type Scope, userScope } from '../scope.ts';
import { ticksToFire } from './cron.ts';
import { type Executor, rows, toDate } from './rows.ts';
import type { TaskManager } from './task-manager.ts';

/** Due schedules looked at per poll. */
const DUE_PER_POLL = 50;
/** Runs kept per schedule (older ones are deleted as new ones are written). */
const RUNS_KEPT = 1000;

export interface FireResult {
  fired: number;
  /** Due schedules another worker took first. */
  lost: number;
  errors: number;
  /** Schedules due only for a check (their next tick is past CRON_HORIZON_YEARS): moved on, nothing fired. */
  checked: number;
}

interface DueSchedule {
  id: string;
  userId: string | null;
  cron: string;
  timezone: string;
  action: ScheduleAction;
  params: Record<string, unknown>;
  due: Date;
}

export interface FireOptions {
  /** A user's scheduled task is refused (CONCURRENCY_LIMITED, recorded on the run) past this many active tasks. */
  maxActiveTasksPerUser?: number;
  /** ... and (QUOTA_EXCEEDED) when the user's tasks would keep more bytes of input than this. */
  maxTaskBytesPerUser?: number;
}

/** Fires every schedule due now (by the database clock). Safe to call from every worker at once. */
export async function fireDueSchedules(
  db: Db,
  manager: TaskManager,
  workerId: string,
  options: FireOptions = {},
): Promise<FireResult> {
  const found = await rows<Record<string, unknown>>(
    db,
    sql`select id, user_id, cron, timezone, action, params, next_run_at, now() as now
        from schedules where next_run_at <= now() order by next_run_at limit ${DUE_PER_POLL}`,
  );
  const result: FireResult = { fired: 0, lost: 0, errors: 0, checked: 0 };
  for (const row of found) {
    const schedule: DueSchedule = {
      id: String(row.id),
      userId: (row.user_id as string | null) ?? null,
      cron: String(row.cron),
      timezone: String(row.timezone),
      action: row.action as ScheduleAction,
      params: (row.params ?? {}) as Record<string, unknown>,
      due: toDate(row.next_run_at) as Date,
    };
    const outcome = await fireOne(db, manager, schedule, toDate(row.now) as Date, workerId, options);
    result[outcome] += 1;
  }
  return result;
}

async function fireOne(
  db: Db,
  manager: TaskManager,
  schedule: DueSchedule,
  now: Date,
  workerId: string,
  options: FireOptions,
): Promise<keyof FireResult> {
  const spec = { cron: schedule.cron, timezone: schedule.timezone };
  let plan: Awaited<ReturnType<typeof ticksToFire>>;
  try {
    plan = await ticksToFire(spec, schedule.due, now);
  } catch {
    // An expression that no longer parses (a cron-parser upgrade): park it a day ahead rather than poll it forever.
    plan = { tick: schedule.due, skipped: 0, next: new Date(now.getTime() + 86_400_000) };
  }
  const { tick } = plan;
  if (!tick) {
    // Due for a check, not a tick: on to the next tick, or the next check. Nothing runs, nothing is recorded.
    const moved = await rows(
      db,
      sql`update schedules set next_run_at = ${plan.next.toISOString()}::timestamptz, updated_at = now()
          where id = ${schedule.id} and next_run_at = ${schedule.due.toISOString()}::timestamptz returning id`,
    );
    return moved.length === 0 ? 'lost' : 'checked';
  }
  return db.transaction(async (tx) => {
    const ex = tx as unknown as Executor;
    const claimed = await rows(
      ex,
      sql`update schedules
          set next_run_at = ${plan.next.toISOString()}::timestamptz, last_tick = ${tick.toISOString()}::timestamptz,
              fired = fired + 1, skipped = skipped + ${plan.skipped}, updated_at = now()
          where id = ${schedule.id} and next_run_at = ${schedule.due.toISOString()}::timestamptz
          returning id`,
    );
    if (claimed.length === 0) return 'lost';
    // The primary key is the second guard: a tick already recorded (a schedule moved back by hand) is not run again.
    const recorded = await rows(
      ex,
      sql`insert into schedule_runs (schedule_id, tick, worker_id)
          values (${schedule.id}, ${tick.toISOString()}::timestamptz, ${workerId})
          on conflict do nothing returning tick`,
    );
    if (recorded.length === 0) return 'lost';
    let taskId: string | null = null;
    let error: FileProcessingError | null = null;
    try {
      taskId = await enqueue(ex, manager, schedule, tick, options);
    } catch (caught) {
      // A refusal (nothing to generate, the owner at the task limit, a URL no longer allowed) is raised by our checks
      // before anything is written, so the transaction is intact: the tick is consumed with the refusal recorded.
      // A failed statement is not ours to judge: everything rolls back and the tick is fired again.
      if (!(caught instanceof FileProcessingError) || caught.code === 'DATABASE_ERROR') throw caught;
      error = caught;
    }
    await ex.execute(sql`update schedule_runs set task_id = ${taskId}, error_code = ${error?.code ?? null}
                         where schedule_id = ${schedule.id} and tick = ${tick.toISOString()}::timestamptz`);
    await ex.execute(sql`update schedules set last_task_id = coalesce(${taskId}::uuid, last_task_id),
                         last_error = ${error ? `${error.code}: ${error.message}`.slice(0, 500) : null}
                         where id = ${schedule.id}`);
    await ex.execute(sql`delete from schedule_runs where schedule_id = ${schedule.id} and tick < (
                         select tick from schedule_runs where schedule_id = ${schedule.id}
                         order by tick desc offset ${RUNS_KEPT} limit 1)`);
    return error ? 'errors' : 'fired';
  });
}

async function enqueue(
  tx: Executor,
  manager: TaskManager,
  schedule: DueSchedule,
  tick: Date,
  options: FireOptions,
): Promise<string> {
  const scope: Scope = schedule.userId ? userScope(schedule.userId) : ALL_USERS;
  // A user's schedule cannot pile up tasks faster than workers finish them: the same cap as the API's.
  const cap = schedule.userId
    ? {
        ...(options.maxActiveTasksPerUser !== undefined
          ? { maxActiveTasksForUser: options.maxActiveTasksPerUser }
          : {}),
        ...(options.maxTaskBytesPerUser ? { maxTaskBytesForUser: options.maxTaskBytesPerUser } : {}),
      }
    : {};
  const p = schedule.params;
  const num = (value: unknown, fallback: number) => (typeof value === 'number' ? value : fallback);
  let taskId: string;
  if (schedule.action === 'generate_auto') {
    taskId = await manager.queueRecordGeneration(
      { auto: { limit: num(p.limit, 100) }, fileSizeKb: num(p.fileSizeKb, 15), scope, ...cap },
      { tx },
    );
  } else if (schedule.action === 'ingest') {
    taskId = await manager.queueFileProcessing(
      {
        urls: (p.urls as string[]) ?? [],
        scope,
        options: { quality: num(p.quality, 85), compress: p.compress !== false, allowPrivate: p.allowPrivate === true },
        ...cap,
      },
      { tx },
    );
  } else {
    taskId = await manager.queueMaintenance({ olderThanDays: num(p.olderThanDays, 7) }, { tx });
  }
  await tx.execute(
    sql`update tasks set options = options || ${JSON.stringify({
      schedule: { id: schedule.id, tick: tick.toISOString() },
    })}::jsonb where id = ${taskId}`,
  );
  return taskId;
}
