/**
 * A schedule firing every second through the chaos run: workers are killed, PostgreSQL restarts, connections drop,
 * and still each tick is taken once, and a tick not fired is one the missed-tick policy counted as skipped. It
 * queues `generate auto` for a user with no records, so every tick is consumed (NOTHING_TO_DO) without adding
 * tasks to the run's own invariants.
 */
import { openDatabase, Schedules } from '@mediaforge/core';
import type postgres from 'postgres';

export interface ScheduleVerdict {
  ticks: number;
  duplicated: number;
  /** Ticks neither fired nor counted as skipped (must be 0). */
  unaccounted: number;
  skipped: number;
  firedBy: number;
  problems: string[];
}

export async function startChaosSchedule(url: string): Promise<{ id: string; firstDue: Date }> {
  const database = await openDatabase({ url });
  try {
    const settings = {
      schedules: { minIntervalSeconds: 1, maxPerUser: 1, maxUrls: 1 },
      maxBatchSize: 10,
      allowHosts: [],
      maxFileSizeBytes: 1024 * 1024,
    };
    const row = await new Schedules({ database, settings }).add(
      { userId: 'chaos-schedule-nobody' },
      { cron: '* * * * * *', action: 'generate_auto' },
    );
    return { id: row.id, firstDue: row.nextRunAt };
  } finally {
    await database.close();
  }
}

/** Stops the schedule and checks its runs. */
export async function checkChaosSchedule(
  sql: postgres.Sql,
  schedule: { id: string; firstDue: Date },
): Promise<ScheduleVerdict> {
  await sql`update schedules set next_run_at = now() + interval '1 day' where id = ${schedule.id}`;
  const runs = await sql<{ tick: Date; error_code: string | null; worker_id: string }[]>`
    select tick, error_code, worker_id from schedule_runs where schedule_id = ${schedule.id} order by tick`;
  const [row] = await sql<{ skipped: number; fired: number }[]>`
    select skipped, fired from schedules where id = ${schedule.id}`;
  const ticks = runs.map((run) => run.tick.getTime());
  const problems: string[] = [];
  const duplicated = ticks.length - new Set(ticks).size;
  const last = ticks.at(-1) ?? schedule.firstDue.getTime();
  const expected = Math.round((last - schedule.firstDue.getTime()) / 1000) + 1;
  const unaccounted = expected - ticks.length - (row?.skipped ?? 0);
  if (ticks.length === 0) problems.push('the schedule never fired');
  if (duplicated > 0) problems.push(`${duplicated} ticks fired twice`);
  if (unaccounted !== 0) problems.push(`${unaccounted} ticks neither fired nor counted as skipped`);
  if (row?.fired !== ticks.length) problems.push(`fired ${row?.fired} but ${ticks.length} runs recorded`);
  const codes = new Set(runs.map((run) => run.error_code));
  if (codes.size !== 1 || !codes.has('NOTHING_TO_DO')) problems.push(`unexpected run outcomes: ${[...codes]}`);
  return {
    ticks: ticks.length,
    duplicated,
    unaccounted,
    skipped: row?.skipped ?? 0,
    firedBy: new Set(runs.map((run) => run.worker_id)).size,
    problems,
  };
}
