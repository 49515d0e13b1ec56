/**
 * A task's items in pages, in seq order: a page ends at `limit` items or once their payloads, results and errors pass
 * TASK_ITEM_PAGE_BYTES, whichever comes first, and holds at least one; `nextAfterSeq` continues after its last item.
 * Each item carries its input (a URL of up to 8 KiB), a result and an error of up to 4,000 characters, so a page of
 * 1,000 was several MB built on the API's event loop, and a client could not tell a short last page from a cut one.
 */
import { and, asc, eq, getTableColumns, gt, lt, sql } from 'drizzle-orm';
import { budgetedPage, bytesBefore } from '../db/budgeted-page.ts';
import type { Db } from '../db/database.ts';
import { type TaskItemRow, type TaskStatus, taskItems } from '../db/queue-schema.ts';

/** The payload, result and error text a page of items may pass before it ends (the item that passes it is the last). */
export const TASK_ITEM_PAGE_BYTES = 1024 * 1024;

export interface ItemListOptions {
  status?: TaskStatus;
  /** 1–1000, default 100. */
  limit?: number;
  /** Items after this seq: a previous page's `nextAfterSeq`. */
  afterSeq?: number;
  /** Default TASK_ITEM_PAGE_BYTES. */
  budget?: number;
}

export interface TaskItemPage {
  items: TaskItemRow[];
  /**
   * Present when more items follow (absent on the last page, as records' and dead letters' `nextCursor`): pass it as
   * `afterSeq` for the next page. A page can be short and still have one, so page on while it is set.
   */
  nextAfterSeq?: number;
}

/** The page of a task's items that `options` asks for, measured and cut by the database in at most two steps. */
export async function selectItemPage(db: Db, taskId: string, options: ItemListOptions = {}): Promise<TaskItemPage> {
  const limit = Math.max(1, Math.min(Math.trunc(options.limit ?? 100), 1000));
  const { items, more } = await budgetedPage<TaskItemRow>(
    limit,
    options.budget ?? TASK_ITEM_PAGE_BYTES,
    async (last, take, left) => {
      const afterSeq = last?.seq ?? options.afterSeq;
      const rows = await measuredItems(db, taskId, { ...options, afterSeq }, take, left);
      return rows.map(({ bytes, followed, ...item }) => ({ row: item, bytes, followed }));
    },
  );
  const last = items.at(-1);
  return more && last ? { items, nextAfterSeq: last.seq } : { items };
}

/**
 * At most `take` items in seq order, cut once they pass `budget` bytes. The inner query measures each item as the
 * rows come out in order, and its LIMIT stops it; `lead` looks one row past the limit, so no extra item is read out to
 * tell whether more follow. The outer queries sum the sizes before each item and drop the items past the budget, so
 * those never leave the database.
 */
function measuredItems(db: Db, taskId: string, options: ItemListOptions, take: number, budget: number) {
  const measured = db
    .select({
      ...getTableColumns(taskItems),
      // The text, not pg_column_size (the compressed size): what the answer carries.
      bytes:
        sql<number>`(octet_length(${taskItems.payload}::text) + coalesce(octet_length(${taskItems.result}::text), 0)
        + coalesce(octet_length(${taskItems.errorMessage}), 0))::int`.as('bytes'),
      followed: sql<boolean>`lead(true, 1, false) over (order by ${taskItems.seq})`.as('followed'),
    })
    .from(taskItems)
    .where(
      and(
        eq(taskItems.taskId, taskId),
        options.status ? eq(taskItems.status, options.status) : undefined,
        options.afterSeq === undefined ? undefined : gt(taskItems.seq, options.afterSeq),
      ),
    )
    .orderBy(asc(taskItems.seq))
    .limit(take)
    .as('measured');
  const summed = db
    .select({
      ...measured._.selectedFields,
      bytesBefore: bytesBefore(measured.bytes, sql`order by ${measured.seq}`),
    })
    .from(measured)
    .as('summed');
  const { bytesBefore: _, ...fields } = summed._.selectedFields;
  return db.select(fields).from(summed).where(lt(summed.bytesBefore, budget)).orderBy(asc(summed.seq));
}
