/**
 * How a page cut at a byte budget is read, for every list that is (records, a task's items): at most `limit` rows,
 * fewer once they pass the budget (the row that passes it is the last, so a page always holds one), measured and cut by
 * the database in at most two statements.
 *
 * What costs is measuring: turning a row's jsonb into text takes ~25 µs for 16 KiB, and a page of 1,000 such rows
 * measured whole cost ~25 ms of database CPU to return 68 of them. So the first statement measures FIRST_STEP rows
 * and, only when they leave the budget and the limit unfilled, a second one the rest of the limit: never more rows
 * than `limit` in all, and large rows are measured little past the cut.
 */
import { type SQL, type SQLWrapper, sql } from 'drizzle-orm';

/** Rows the first statement of a page measures: rows averaging more than 8 KiB fill 1 MiB within them. */
const FIRST_STEP = 128;

/** A row as a step returns it: its measured size, and whether any row follows it in the list's order. */
export interface MeasuredRow<T> {
  row: T;
  bytes: number;
  followed: boolean;
}

/**
 * Reads `measure(last, take, left)` in steps: `last` is the previous step's last row (undefined for the first; the
 * caller's cursor applies then), and each step returns at most `take` rows in order, cut once they pass `left` bytes.
 * `more` tells whether rows follow the page's last.
 */
export async function budgetedPage<T>(
  limit: number,
  budget: number,
  measure: (last: T | undefined, take: number, left: number) => Promise<MeasuredRow<T>[]>,
): Promise<{ items: T[]; more: boolean }> {
  const items: T[] = [];
  let used = 0;
  let more = false;
  do {
    const take = Math.min(items.length === 0 ? FIRST_STEP : limit, limit - items.length);
    const rows = await measure(items.at(-1), take, budget - used);
    for (const { row, bytes, followed } of rows) {
      items.push(row);
      used += bytes;
      more = followed;
    }
    if (rows.length === 0) more = false;
  } while (more && used < budget && items.length < limit);
  return { items, more };
}

/**
 * What a step cuts on: the `bytes` of the rows before each one in its page order (`order`, an `order by`), so the row
 * that passes the budget is the last kept.
 */
export function bytesBefore(bytes: SQLWrapper, order: SQL) {
  return sql<number>`coalesce(sum(${bytes}) over (${order} rows between unbounded preceding and 1 preceding), 0)`.as(
    'bytes_before',
  );
}
