/**
 * The job queue on PostgreSQL (or PGlite): enqueue tasks fanned out into items, read their state, cancel, prune.
 * Workers use the statements in `statements.ts` through `WorkerQueue`; this is the side users and the API see.
 */
import { and, asc, desc, eq, inArray, lt, or, sql } from 'drizzle-orm';
import type { Database, Db } from '../db/database.ts';
import { tasksLock, withOwnerGates } from '../db/owner-gates.ts';
import { type TaskKind, type TaskRow, type TaskStatus, taskItems, tasks } from '../db/queue-schema.ts';
import { FileProcessingError } from '../errors.ts';
import { decodeCursor, encodeCursor } from '../records/cursor.ts';
import { withDeadlockRetry } from '../retry/rerun.ts';
import { isUid, newUid } from '../uid.ts';
import { insertItems, insertTaskWithItems } from './enqueue-statements.ts';
import { type ItemListOptions, selectItemPage, type TaskItemPage } from './item-pages.ts';
import { validateQueueName } from './queue-name.ts';
import { type Executor, rows, toNumber } from './rows.ts';
import { CANCEL_CHANNEL, cancelTask, notify, pruneFinished } from './statements.ts';
import { checkTaskLimits, defaultQueueFor, type TaskLimits } from './task-limits.ts';
import { countItems, type TaskCounts } from './task-reports.ts';
import { checkTaskStorage, lockUserTasks, taskStoredBytes } from './task-storage.ts';

export { validateQueueName } from './queue-name.ts';

export const DEFAULT_QUEUE = 'default';
/** Attempts per item when the caller names none. */
export const DEFAULT_MAX_ATTEMPTS = 3;
/** Items per INSERT when a task is enqueued: big enough to be fast, small enough for one parameter. */
const INSERT_CHUNK = 5000;

export class TaskNotFoundError extends FileProcessingError {
  constructor(readonly taskId: string) {
    super(`No task ${taskId}. List tasks with \`mediaforge jobs list\`.`, 'TASK_NOT_FOUND', { details: { taskId } });
  }
}

export interface EnqueueSpec {
  kind: TaskKind;
  /** One payload per item; each becomes a unit any worker can claim. */
  payloads: readonly Record<string, unknown>[];
  queue?: string;
  userId?: string | null;
  generationId?: string | null;
  /** Higher runs first. Default 0. */
  priority?: number;
  /** Attempts per item, counting the first. Default 3. */
  maxAttempts?: number;
  options?: Record<string, unknown>;
  /** Time limits and a concurrency cap of this task's own (stored as `options.limits`). */
  limits?: TaskLimits;
  /**
   * Refuse (CONCURRENCY_LIMITED) when the user already has this many queued or running tasks. Checked and inserted
   * under a per-user advisory lock, so concurrent requests (from any process) cannot race past it.
   */
  maxActiveTasksForUser?: number;
  /**
   * Refuse (QUOTA_EXCEEDED) when the user's tasks would keep more than this many bytes of input in the database
   * (USER_TASK_STORAGE_MB, see task-storage.ts). Checked under the same per-user lock.
   */
  maxTaskBytesForUser?: number;
  /**
   * The task's webhook wants an event per item (set by the task manager, which stores the webhook beside the task):
   * the per-item trigger fires only for items marked so.
   */
  itemWebhook?: boolean;
}

export interface EnqueueOptions {
  /** Enqueue inside the caller's transaction: the task exists only if that transaction commits. */
  tx?: Executor;
}

export interface TaskListOptions {
  userId?: string;
  status?: TaskStatus;
  kind?: TaskKind;
  limit?: number;
  /** The `nextCursor` of a previous page. */
  cursor?: string;
}

function chunks<T>(all: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let at = 0; at < all.length; at += size) out.push(all.slice(at, at + size));
  return out;
}

export class TaskQueue {
  readonly db: Db;

  constructor(database: Pick<Database, 'db'>) {
    this.db = database.db;
  }

  /** Creates a task and its items in one transaction (or the caller's) and wakes idle workers. Returns its id. */
  async enqueue(spec: EnqueueSpec, { tx }: EnqueueOptions = {}): Promise<string> {
    const queue = validateQueueName(spec.queue ?? defaultQueueFor(spec.kind));
    const limits = checkTaskLimits(spec.limits ?? {});
    const maxAttempts = spec.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 100) {
      throw new FileProcessingError(
        `maxAttempts must be an integer from 1 to 100 (got ${maxAttempts}).`,
        'INVALID_TASK',
      );
    }
    const task = {
      id: newUid(),
      kind: spec.kind,
      queue,
      userId: spec.userId ?? null,
      generationId: spec.generationId ?? null,
      priority: Math.trunc(spec.priority ?? 0),
      maxAttempts,
      options: Object.keys(limits).length > 0 ? { ...spec.options, limits } : (spec.options ?? {}),
      total: spec.payloads.length,
      maxConcurrent: limits.maxConcurrent ?? null,
      itemWebhook: spec.itemWebhook ?? false,
      storedBytes: 0,
    };
    task.storedBytes = taskStoredBytes(spec.payloads, task.options);
    const perUser =
      task.userId !== null && (spec.maxActiveTasksForUser !== undefined || spec.maxTaskBytesForUser !== undefined);
    const [first = [], ...rest] = chunks(spec.payloads, INSERT_CHUNK);
    const write = async (db: Executor) => {
      if (spec.maxActiveTasksForUser !== undefined && task.userId !== null) {
        await checkActiveTasks(db, task.userId, spec.maxActiveTasksForUser);
      }
      if (spec.maxTaskBytesForUser !== undefined && task.userId !== null) {
        await checkTaskStorage(db, task.userId, task.storedBytes, spec.maxTaskBytesForUser);
      }
      const laneStart = await insertTaskWithItems(db, task, first);
      for (const [n, chunk] of rest.entries()) {
        await insertItems(db, task, chunk, (n + 1) * INSERT_CHUNK, laneStart);
      }
    };
    // One statement is atomic by itself: the common enqueue (no per-user check, one chunk) is one round trip.
    const single = rest.length === 0 && !perUser;
    if (tx) await write(tx);
    else if (single) await write(this.db as unknown as Executor);
    else {
      // The user's task lock: this process's task creations for one user take turns before they take a connection.
      const gates = perUser && task.userId !== null ? [tasksLock(task.userId)] : [];
      await withOwnerGates(this.db, gates, () => this.db.transaction((inner) => write(inner as unknown as Executor)));
    }
    return task.id;
  }

  /** The task row, or undefined (also when it belongs to another user than `userId`). */
  async getTask(taskId: string, { userId }: { userId?: string } = {}): Promise<TaskRow | undefined> {
    if (!isUid(taskId)) return undefined;
    const [row] = await this.db
      .select()
      .from(tasks)
      .where(and(eq(tasks.id, taskId), userId === undefined ? undefined : eq(tasks.userId, userId)));
    return row;
  }

  /** Newest first, keyset-paginated. */
  async listTasks(options: TaskListOptions = {}): Promise<{ tasks: TaskRow[]; nextCursor: string | null }> {
    const limit = Math.max(1, Math.min(options.limit ?? 50, 1000));
    const after = options.cursor ? decodeCursor(options.cursor) : undefined;
    const found = await this.db
      .select()
      .from(tasks)
      .where(
        and(
          options.userId === undefined ? undefined : eq(tasks.userId, options.userId),
          options.status ? eq(tasks.status, options.status) : undefined,
          options.kind ? eq(tasks.kind, options.kind) : undefined,
          after
            ? or(
                lt(tasks.createdAt, after.createdAt),
                and(eq(tasks.createdAt, after.createdAt), lt(tasks.id, after.uid)),
              )
            : undefined,
        ),
      )
      .orderBy(desc(tasks.createdAt), desc(tasks.id))
      .limit(limit + 1);
    const page = found.slice(0, limit);
    const last = page.at(-1);
    return {
      tasks: page,
      nextCursor: found.length > limit && last ? encodeCursor({ createdAt: last.createdAt, uid: last.id }) : null,
    };
  }

  /** A task's items in seq order, one page at a time (item-pages.ts). */
  listItems(taskId: string, options: ItemListOptions = {}): Promise<TaskItemPage> {
    return selectItemPage(this.db, taskId, options);
  }

  /** What the result of a task lists: the record uids its succeeded items produced, in item order. */
  async processedRecordUids(task: TaskRow): Promise<string[]> {
    const pruned = task.result?.processedFileIds;
    if (Array.isArray(pruned)) return pruned.map(String);
    const done = await this.db
      .select({ result: taskItems.result })
      .from(taskItems)
      .where(and(eq(taskItems.taskId, task.id), eq(taskItems.status, 'succeeded')))
      .orderBy(asc(taskItems.seq));
    return done.map((row) => row.result?.recordUid).filter((uid): uid is string => typeof uid === 'string');
  }

  /** Recount from the items (the counters on the task must always equal this). */
  countItems(taskId: string): Promise<TaskCounts> {
    return countItems(this.db, taskId);
  }

  /** Cancels queued and running items; running ones are aborted on their workers within seconds. */
  async cancel(taskId: string, { userId }: { userId?: string } = {}): Promise<boolean> {
    if (!isUid(taskId)) return false;
    const cancelled = await withDeadlockRetry(() => cancelTask(this.db, taskId, userId));
    if (cancelled) await notify(this.db, CANCEL_CHANNEL, taskId).catch(() => {});
    return cancelled;
  }

  /** Prunes items of tasks finished more than `olderThanMs` ago (their results are folded into the task). */
  prune(olderThanMs: number): Promise<{ tasks: number; items: number }> {
    return pruneFinished(this.db, new Date(Date.now() - olderThanMs));
  }

  /** Tasks not yet finished. */
  async activeTaskCount(userId?: string): Promise<number> {
    const [row] = await this.db
      .select({ count: sql<number>`count(*)::int` })
      .from(tasks)
      .where(
        and(inArray(tasks.status, ['queued', 'running']), userId === undefined ? undefined : eq(tasks.userId, userId)),
      );
    return Number(row?.count ?? 0);
  }
}

/** Under the user's advisory lock: refuses when the user already has `limit` queued or running tasks. */
export async function checkActiveTasks(db: Executor, userId: string, limit: number): Promise<void> {
  await lockUserTasks(db, userId);
  const [row] = await rows<{ n: unknown }>(
    db,
    sql`select count(*) as n from tasks where user_id = ${userId} and status in ('queued', 'running')`,
  );
  if (toNumber(row?.n ?? 0) >= limit) {
    throw new FileProcessingError(
      `This user already has ${limit} queued or running tasks; wait for one to finish.`,
      'CONCURRENCY_LIMITED',
      { transient: true, details: { limit, retryAfterSeconds: 5 } },
    );
  }
}
