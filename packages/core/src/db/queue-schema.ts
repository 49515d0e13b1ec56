/** The job queue's tables: tasks (what a user submits), their items (what a worker claims) and the workers. */
import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgEnum, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { timestampMs } from './columns.ts';

/** `noop` items do nothing: for benchmarks and for checking that workers are taking work. */
export const TASK_KINDS = ['ingest', 'generate', 'maintenance', 'noop', 'optimization'] as const;
export const TASK_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;

export type TaskKind = (typeof TASK_KINDS)[number];
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const taskKindEnum = pgEnum('task_kind', TASK_KINDS);
export const taskStatusEnum = pgEnum('task_status', TASK_STATUSES);

/** What tasks and items both record about how they ended (fresh builders per table). */
const outcomeColumns = () => ({
  result: jsonb('result').$type<Record<string, unknown>>(),
  errorCode: text('error_code'),
  errorMessage: text('error_message'),
  createdAt: timestampMs('created_at').notNull().defaultNow(),
  startedAt: timestampMs('started_at'),
  finishedAt: timestampMs('finished_at'),
});

export const tasks = pgTable(
  'tasks',
  {
    id: uuid('id').primaryKey(),
    kind: taskKindEnum('kind').notNull(),
    queue: text('queue').notNull().default('default'),
    status: taskStatusEnum('status').notNull().default('queued'),
    userId: text('user_id'),
    generationId: text('generation_id'),
    priority: integer('priority').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(3),
    /** What every item of the task shares (quality, file size, owner…). */
    options: jsonb('options').$type<Record<string, unknown>>().notNull().default({}),
    total: integer('total').notNull(),
    /** Exact counters, moved in the same statement as the item's own terminal transition. */
    succeeded: integer('succeeded').notNull().default(0),
    failed: integer('failed').notNull().default(0),
    cancelled: integer('cancelled').notNull().default(0),
    /** `result` is filled when the items are pruned, so a pruned task still reports what it did. */
    ...outcomeColumns(),
    updatedAt: timestampMs('updated_at').notNull().defaultNow(),
    /**
     * What the task keeps in the database until its items are pruned (its input as JSON, plus a fixed cost per task
     * and per item), counted against its user's USER_TASK_STORAGE_MB; 0 once pruned (migration 0011).
     */
    storedBytes: bigint('stored_bytes', { mode: 'number' }).notNull().default(0),
  },
  (t) => [
    index('tasks_created_idx').on(t.createdAt, t.id),
    index('tasks_user_stored_idx').on(t.userId).where(sql`${t.storedBytes} > 0`),
    index('tasks_user_created_idx').on(t.userId, t.createdAt, t.id),
    index('tasks_generation_idx').on(t.generationId),
    index('tasks_active_idx').on(t.status).where(sql`${t.status} in ('queued', 'running')`),
  ],
);

export const taskItems = pgTable(
  'task_items',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    taskId: uuid('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    queue: text('queue').notNull().default('default'),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    status: taskStatusEnum('status').notNull().default('queued'),
    priority: integer('priority').notNull().default(0),
    runAt: timestampMs('run_at').notNull().defaultNow(),
    /** Its place in its owner's lane (`queue_lanes`): claims go by it, so owners take turns. */
    fairAt: timestampMs('fair_at').notNull().defaultNow(),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(3),
    /** The task's `maxConcurrent`: such items are claimed under the task's row lock (`limited-claim.ts`). */
    maxConcurrent: integer('max_concurrent'),
    /** The worker holding (or, once finished, last holding) the item. */
    lockedBy: text('locked_by'),
    lockedUntil: timestampMs('locked_until'),
    heartbeatAt: timestampMs('heartbeat_at'),
    progress: jsonb('progress').$type<Record<string, unknown>>(),
    /** Its task has an each-item webhook: the per-item trigger fires only for such items (migration 0010). */
    itemWebhook: boolean('item_webhook').notNull().default(false),
    ...outcomeColumns(),
  },
  (t) => [
    index('task_items_claim_idx').on(t.queue, t.priority.desc(), t.fairAt, t.id).where(sql`${t.status} = 'queued'`),
    index('task_items_task_idx').on(t.taskId, t.seq),
    // Also how expired leases are found (the running set is bounded by the workers' slots): migration 0010.
    index('task_items_running_task_idx').on(t.taskId).where(sql`${t.status} = 'running'`),
    // A worker's reserved slot finds other owners' items task by task (claimOthers): migration 0009.
    index('task_items_queued_task_idx').on(t.taskId, t.seq).where(sql`${t.status} = 'queued'`),
  ],
);

/**
 * One row per task owner (the user, or '' for tasks without one): where that owner's next item goes in fair time.
 * Each item takes one second of its owner's lane, so an owner with a long backlog is served in turn with others.
 */
export const queueLanes = pgTable('queue_lanes', {
  owner: text('owner').primaryKey(),
  nextAt: timestampMs('next_at').notNull(),
});

export const workers = pgTable('workers', {
  id: text('id').primaryKey(),
  host: text('host').notNull(),
  pid: integer('pid').notNull(),
  queues: text('queues').array().notNull(),
  concurrency: integer('concurrency').notNull(),
  version: text('version'),
  startedAt: timestampMs('started_at').notNull().defaultNow(),
  lastSeen: timestampMs('last_seen').notNull().defaultNow(),
  stoppedAt: timestampMs('stopped_at'),
  active: integer('active').notNull().default(0),
  processed: integer('processed').notNull().default(0),
  failed: integer('failed').notNull().default(0),
});

export type TaskRow = typeof tasks.$inferSelect;
export type TaskItemRow = typeof taskItems.$inferSelect;
export type WorkerRow = typeof workers.$inferSelect;
