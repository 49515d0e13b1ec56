/**
 * What a user's tasks keep in the database, and for how long (decision 0056). A task's items hold its input (URLs,
 * options, each up to 8 KiB of URL) until they are pruned, TASK_RETENTION_DAYS after the task ends; the task row,
 * with its result, stays for TASK_HISTORY_DAYS. Neither was bounded per user: creating and cancelling tasks in a loop
 * grew a database by 12 MB/s, all kept for a week, on the disk every user shares. Now each task records what it keeps
 * (`stored_bytes`) and a user's kept bytes are capped (USER_TASK_STORAGE_MB), and task rows are deleted for good once
 * their history has run out.
 */
import { sql } from 'drizzle-orm';
import { tasksLock } from '../db/owner-gates.ts';
import { FileProcessingError } from '../errors.ts';
import { type Executor, rows, toNumber } from './rows.ts';

/** The fixed cost counted for every task and every item besides their JSON (row headers, index entries). */
export const TASK_ROW_BYTES = 1024;
export const ITEM_ROW_BYTES = 256;

/** What a task with these payloads and options keeps until its items are pruned. */
export function taskStoredBytes(
  payloads: readonly Record<string, unknown>[],
  options: Record<string, unknown>,
): number {
  let bytes = TASK_ROW_BYTES + Buffer.byteLength(JSON.stringify(options));
  for (const payload of payloads) bytes += ITEM_ROW_BYTES + Buffer.byteLength(JSON.stringify(payload));
  return bytes;
}

/** Holds the user's task lock until the transaction ends: per-user checks of new tasks queue up behind it. */
export async function lockUserTasks(db: Executor, userId: string): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtext(${tasksLock(userId)}))`);
}

/** Bytes of input the user's tasks keep until their items are pruned. Served by tasks_user_stored_idx. */
export async function keptTaskBytes(db: Executor, userId: string): Promise<number> {
  const [row] = await rows<{ bytes: unknown }>(
    db,
    sql`select coalesce(sum(stored_bytes), 0) as bytes from tasks where user_id = ${userId} and stored_bytes > 0`,
  );
  return toNumber(row?.bytes ?? 0);
}

/**
 * Refuses (413 QUOTA_EXCEEDED) a task that would take its user's kept task bytes past `limit`. Run it inside the
 * transaction that inserts the task: it takes the user's task lock (the one the active-task cap takes), so requests
 * from any process cannot race past it. Served by tasks_user_stored_idx (only tasks not yet pruned).
 */
export async function checkTaskStorage(db: Executor, userId: string, adding: number, limit: number): Promise<void> {
  await lockUserTasks(db, userId);
  const used = await keptTaskBytes(db, userId);
  if (used + adding > limit) {
    throw new FileProcessingError(
      `This task would keep ${adding} bytes of input in the database, and the user's tasks keep ${used} already: over the limit of ${limit} bytes. Items are pruned TASK_RETENTION_DAYS after their task ends; fewer or shorter URLs fit sooner.`,
      'QUOTA_EXCEEDED',
      { details: { kind: 'tasks', used, requested: adding, limit } },
    );
  }
}

/**
 * Deletes tasks that ended before `before`, with everything that hangs off them (items, webhooks and their
 * deliveries, idempotency keys: all `on delete cascade`). In batches, so one run never holds many locks for long.
 */
export async function pruneTaskHistory(db: Executor, before: Date, batch = 1000): Promise<number> {
  let deleted = 0;
  for (;;) {
    const [row] = await rows<{ n: unknown }>(
      db,
      sql`
      with old as (
        select id from tasks
        where status in ('succeeded', 'failed', 'cancelled') and finished_at < ${before.toISOString()}::timestamptz
        limit ${batch} for update skip locked
      ), gone as (delete from tasks where id in (select id from old) returning 1)
      select count(*)::int as n from gone`,
    );
    const n = toNumber(row?.n ?? 0);
    deleted += n;
    if (n < batch) return deleted;
  }
}
