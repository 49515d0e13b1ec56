/** Schedules: cron expressions that enqueue tasks, and the ticks they fired (one row per schedule and tick). */
import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { timestampMs } from './columns.ts';

export const SCHEDULE_ACTIONS = ['generate_auto', 'ingest', 'maintenance'] as const;
export type ScheduleAction = (typeof SCHEDULE_ACTIONS)[number];

export const schedules = pgTable(
  'schedules',
  {
    id: uuid('id').primaryKey(),
    userId: text('user_id'),
    name: text('name').notNull(),
    cron: text('cron').notNull(),
    timezone: text('timezone').notNull().default('UTC'),
    action: text('action').$type<ScheduleAction>().notNull(),
    /** What the action needs: `{ limit, fileSizeKb }`, `{ urls, options }` or `{ olderThanDays }`. */
    params: jsonb('params').$type<Record<string, unknown>>().notNull().default({}),
    /** The tick a worker fires next; moved forward by the statement that claims the tick. */
    nextRunAt: timestampMs('next_run_at').notNull(),
    lastTick: timestampMs('last_tick'),
    lastTaskId: uuid('last_task_id'),
    lastError: text('last_error'),
    fired: integer('fired').notNull().default(0),
    /** Ticks missed while no worker ran and not fired (the missed-tick policy fires only the latest). */
    skipped: integer('skipped').notNull().default(0),
    createdAt: timestampMs('created_at').notNull().defaultNow(),
    updatedAt: timestampMs('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('schedules_due_idx').on(t.nextRunAt),
    index('schedules_user_idx').on(t.userId, t.createdAt),
    check('schedules_action_check', sql`${t.action} in ('generate_auto', 'ingest', 'maintenance')`),
  ],
);

export const scheduleRuns = pgTable(
  'schedule_runs',
  {
    scheduleId: uuid('schedule_id')
      .notNull()
      .references(() => schedules.id, { onDelete: 'cascade' }),
    tick: timestampMs('tick').notNull(),
    taskId: uuid('task_id'),
    errorCode: text('error_code'),
    workerId: text('worker_id'),
    firedAt: timestampMs('fired_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.scheduleId, t.tick] })],
);

export type ScheduleRow = typeof schedules.$inferSelect;
export type ScheduleRunRow = typeof scheduleRuns.$inferSelect;
