/**
 * The dead letters: items that will not be tried again (failed), with their last error, newest first, in pages. A page
 * ends at `limit` items or once their payloads and errors pass DEAD_LETTER_PAGE_BYTES, whichever comes first, and
 * holds at least one; `nextCursor` continues after its last item. Each item carries its input (a URL of up to 8 KiB)
 * and an error of up to 4,000 characters, so 1,000 of them were an 8.5 MB answer built on the API's event loop, and
 * 16 such requests at once slowed everyone else's to a second; nor could items past the first 1,000 be listed.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { FileProcessingError } from '../errors.ts';
import type { Scope } from '../scope.ts';
import { isUid } from '../uid.ts';
import { TaskNotFoundError } from './queue.ts';
import { ownerCondition } from './retry-task.ts';
import { type Executor, rows, toDate, toNumber } from './rows.ts';

/** The payload and error text a page of dead letters may pass before it ends (the item that passes it is the last). */
export const DEAD_LETTER_PAGE_BYTES = 1024 * 1024;

export interface DeadLetterPage {
  items: DeadLetter[];
  /** Present when more follow: pass it as `cursor` for the next page. */
  nextCursor?: string;
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

/** Where a page continues: after the item finished at `finishedAt` (null: never) with id `itemId`. */
interface Position {
  finishedAt: Date | null;
  itemId: number;
}

function encode({ finishedAt, itemId }: Position): string {
  return Buffer.from(`${finishedAt?.toISOString() ?? ''}|${itemId}`).toString('base64url');
}

function decode(cursor: string): Position {
  const [iso = '', id = ''] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const finishedAt = iso === '' ? null : new Date(iso);
  if (!/^\d{1,15}$/.test(id) || (finishedAt !== null && Number.isNaN(finishedAt.getTime()))) {
    throw new FileProcessingError(
      'Invalid pagination cursor; pass the nextCursor of a previous page.',
      'INVALID_CURSOR',
    );
  }
  return { finishedAt, itemId: Number(id) };
}

/**
 * Failed items in the scope, newest first (of one task when `taskId` is given): at most `limit` (1–1000, default
 * 100), fewer when their payloads and errors pass the page's byte budget. @throws INVALID_CURSOR, TASK_NOT_FOUND
 */
export async function listDeadLetters(
  db: Db,
  scope: Scope,
  options: { taskId?: string; limit?: number; cursor?: string; budget?: number } = {},
): Promise<DeadLetterPage> {
  const limit = Math.max(1, Math.min(options.limit ?? 100, 1000));
  const budget = options.budget ?? DEAD_LETTER_PAGE_BYTES;
  if (options.taskId !== undefined && !isUid(options.taskId)) throw new TaskNotFoundError(options.taskId);
  const after = options.cursor === undefined ? undefined : decode(options.cursor);
  // Newest first, never-finished last: the position's condition follows that order.
  const afterCondition = !after
    ? sql``
    : after.finishedAt === null
      ? sql`and i.finished_at is null and i.id < ${after.itemId}`
      : sql`and (i.finished_at < ${after.finishedAt.toISOString()}::timestamptz
               or (i.finished_at = ${after.finishedAt.toISOString()}::timestamptz and i.id < ${after.itemId})
               or i.finished_at is null)`;
  const order = sql`order by i.finished_at desc nulls last, i.id desc`;
  // The database measures and cuts: sizes are summed in page order, and the items past the budget never leave it.
  const found = await rows<Record<string, unknown>>(
    db as Executor,
    sql`
    select * from (
      select i.task_id, i.id, i.seq, t.kind, t.user_id, i.payload, i.attempts, i.max_attempts, i.error_code,
             i.error_message, i.finished_at,
             coalesce(sum(octet_length(i.payload::text) + coalesce(octet_length(i.error_message), 0) + 256)
               over (${order} rows between unbounded preceding and 1 preceding), 0) as bytes_before,
             lead(true, 1, false) over (${order}) as followed
      from task_items i join tasks t on t.id = i.task_id
      where i.status = 'failed' and ${ownerCondition(scope)}
        ${options.taskId === undefined ? sql`` : sql`and i.task_id = ${options.taskId}`}
        ${afterCondition}
      ${order}
      limit ${limit}
    ) page
    where bytes_before < ${budget}
    order by finished_at desc nulls last, id desc`,
  );
  const items = found.map(
    (row): DeadLetter => ({
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
    }),
  );
  const last = found.at(-1);
  const more = last !== undefined && (last.followed === true || last.followed === 't');
  const lastItem = items.at(-1);
  return more && lastItem
    ? { items, nextCursor: encode({ finishedAt: lastItem.finishedAt, itemId: lastItem.itemId }) }
    : { items };
}
