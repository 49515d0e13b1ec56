/**
 * Retrying a task's failed items (the dead letters, dead-letters.ts, are what can be retried). It takes the caller's
 * scope: someone else's task behaves as one that does not exist.
 */
import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { tasksLock, withOwnerGates } from '../db/owner-gates.ts';
import { FileProcessingError } from '../errors.ts';
import { withDeadlockRetry } from '../retry/rerun.ts';
import { type Scope, scopeUser } from '../scope.ts';
import { isUid } from '../uid.ts';
import { checkActiveTasks, TaskNotFoundError } from './queue.ts';
import { type Executor, rows, toNumber } from './rows.ts';
import { ITEMS_CHANNEL, notify } from './statements.ts';

export interface RetryResult {
  taskId: string;
  /** Items queued again, with fresh attempts. */
  requeued: number;
}

/** Tasks of the scope's user (every task for an unscoped caller), as `t`. */
export const ownerCondition = (scope: Scope) => {
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
  // The user's task lock, taken in turn with this process's other task writes for that user (a key retries its own).
  const owner = maxActiveTasksForUser === undefined ? undefined : scopeUser(scope);
  const [row] = await withOwnerGates(db, owner ? [tasksLock(owner)] : [], () =>
    withDeadlockRetry(() =>
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
    ),
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
