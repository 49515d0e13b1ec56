/**
 * Retrying a task's failed items, and the dead letters: items that will not be tried again (failed), with their
 * last error. Both take the caller's scope: someone else's task behaves as one that does not exist.
 */
import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { FileProcessingError } from '../errors.ts';
import { withDeadlockRetry } from '../retry/rerun.ts';
import { type Scope, scopeUser } from '../scope.ts';
import { isUid } from '../uid.ts';
import { checkActiveTasks, TaskNotFoundError } from './queue.ts';
import { type Executor, rows, toDate, toNumber } from './rows.ts';
import { ITEMS_CHANNEL, notify } from './statements.ts';

export interface RetryResult {
  taskId: string;
  /** Items queued again, with fresh attempts. */
  requeued: number;
}

export interface DeadLetter {
  taskId: string;
  itemId: number;
  seq: number;
  kind: string;
  userId: string | null;
  payload: Record<string, unknown>;
  attempts: number;
  maxAttempts: number;
  /** True when the item used every attempt (transient failures); false when it failed for good at once. */
  exhausted: boolean;
  errorCode: string | null;
  errorMessage: string | null;
  finishedAt: Date | null;
}

const ownerCondition = (scope: Scope) => {
  const userId = scopeUser(scope);
  return userId === undefined ? sql`true` : sql`t.user_id = ${userId}`;
};

/**
 * Queues a task's failed items again (and its cancelled ones unless `failedOnly`) with their attempts reset, and
 * reopens the task; its counters move in the same statement. Items already pruned cannot be retried.
 * @throws TaskNotFoundError for an unknown task or one outside the scope; NOTHING_TO_DO when nothing is retryable
 */
export async function retryTask(
  db: Db,
  taskId: string,
  scope: Scope,
  { failedOnly = false, maxActiveTasksForUser }: { failedOnly?: boolean; maxActiveTasksForUser?: number } = {},
): Promise<RetryResult> {
  if (!isUid(taskId)) throw new TaskNotFoundError(taskId);
  const statuses = failedOnly ? sql`('failed')` : sql`('failed', 'cancelled')`;
  const [row] = await withDeadlockRetry(() =>
    db.transaction(async (tx) => {
      // Reopening a finished task makes it active again: it counts against its user's cap like a new one.
      if (maxActiveTasksForUser !== undefined) {
        const [task] = await rows<{ user_id: string | null; status: string }>(
          tx as unknown as Executor,
          sql`select t.user_id, t.status from tasks t where t.id = ${taskId} and ${ownerCondition(scope)}`,
        );
        if (task?.user_id && !['queued', 'running'].includes(task.status)) {
          await checkActiveTasks(tx as unknown as Executor, task.user_id, maxActiveTasksForUser);
        }
      }
      return requeueStatement(tx as unknown as Executor, taskId, scope, statuses);
    }),
  );
  if (toNumber(row?.found ?? 0) === 0) throw new TaskNotFoundError(taskId);
  const requeued = toNumber(row?.requeued ?? 0);
  if (requeued === 0) {
    throw new FileProcessingError(
      `Task ${taskId} has no ${failedOnly ? 'failed' : 'failed or cancelled'} items to retry (pruned items cannot be retried).`,
      'NOTHING_TO_DO',
      { details: { taskId } },
    );
  }
  await notify(db as Executor, ITEMS_CHANNEL, row?.queue ?? 'default').catch(() => {});
  return { taskId, requeued };
}

/** Requeues the picked items and reopens the task, in one statement. */
function requeueStatement(db: Executor, taskId: string, scope: Scope, statuses: SQL) {
  return rows<{ found: unknown; queue: string | null; requeued: unknown }>(
    db,
    sql`
      with task as (select t.id, t.queue from tasks t where t.id = ${taskId} and ${ownerCondition(scope)}),
      picked as (
        select i.id, i.status from task_items i join task on task.id = i.task_id
        where i.status in ${statuses} for update of i
      ),
      requeued as (
        update task_items i
        set status = 'queued', attempts = 0, run_at = now(), locked_by = null, locked_until = null,
            heartbeat_at = null, progress = null, result = null, error_code = null, error_message = null,
            finished_at = null
        from picked where i.id = picked.id
        returning picked.status as was
      ),
      counts as (
        select count(*) filter (where was = 'failed')::int as f, count(*) filter (where was = 'cancelled')::int as c
        from requeued
      ),
      reopened as (
        update tasks t
        set failed = t.failed - counts.f, cancelled = t.cancelled - counts.c,
            status = case when t.status in ('queued', 'running') then t.status else 'queued' end::task_status,
            finished_at = null, error_code = null, error_message = null, updated_at = now()
        from counts where t.id = ${taskId} and counts.f + counts.c > 0
        returning t.id
      )
      select (select count(*) from task) as found, (select queue from task) as queue,
             (select f + c from counts) as requeued, (select count(*) from reopened) as reopened`,
  );
}

/** Failed items in the scope, newest first (of one task when `taskId` is given). At most `limit` (1–1000). */
export async function listDeadLetters(
  db: Db,
  scope: Scope,
  options: { taskId?: string; limit?: number } = {},
): Promise<DeadLetter[]> {
  const limit = Math.max(1, Math.min(options.limit ?? 100, 1000));
  if (options.taskId !== undefined && !isUid(options.taskId)) throw new TaskNotFoundError(options.taskId);
  const found = await rows<Record<string, unknown>>(
    db as Executor,
    sql`
    select i.task_id, i.id, i.seq, t.kind, t.user_id, i.payload, i.attempts, i.max_attempts, i.error_code,
           i.error_message, i.finished_at
    from task_items i join tasks t on t.id = i.task_id
    where i.status = 'failed' and ${ownerCondition(scope)}
      ${options.taskId === undefined ? sql`` : sql`and i.task_id = ${options.taskId}`}
    order by i.finished_at desc nulls last, i.id desc
    limit ${limit}`,
  );
  return found.map((row) => ({
    taskId: String(row.task_id),
    itemId: toNumber(row.id),
    seq: toNumber(row.seq),
    kind: String(row.kind),
    userId: row.user_id === null ? null : String(row.user_id),
    payload: (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as Record<string, unknown>,
    attempts: toNumber(row.attempts),
    maxAttempts: toNumber(row.max_attempts),
    exhausted: toNumber(row.attempts) >= toNumber(row.max_attempts),
    errorCode: row.error_code === null ? null : String(row.error_code),
    errorMessage: row.error_message === null ? null : String(row.error_message),
    finishedAt: toDate(row.finished_at),
  }));
}
