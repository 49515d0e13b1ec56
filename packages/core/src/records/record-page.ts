/**
 * How records are listed in pages, for every listing of them (RecordRepository.list, a generation's media): oldest
 * first by (created_at, uid), continued after a cursor, and cut at a byte budget DynamoDB-style. A page ends at
 * `limit` records or once its records pass RECORD_PAGE_BYTES of JSON, whichever comes first, and holds at least one
 * record. The database measures and cuts, so a page of large records is never read out of it whole: one page of
 * 1,000 records with 16 KiB of metadata each was 16 MB, built and serialised on the API's event loop, and 64 of them
 * at once slowed every other caller to seconds and took a gigabyte of server memory.
 */
import { and, asc, eq, getTableColumns, gt, lt, or, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { records } from '../db/schema.ts';
import { type CursorPosition, decodeCursor, encodeCursor } from './cursor.ts';
import type { MediaRecord, RecordPage } from './record.ts';

/** The JSON a page of records may pass before it ends (the record that passes it is the page's last). */
export const RECORD_PAGE_BYTES = 1024 * 1024;

export interface RecordPageOptions {
  limit: number;
  /** A previous page's `nextCursor`: the page starts after its last record. */
  cursor?: string | undefined;
  /** Default RECORD_PAGE_BYTES. */
  budget?: number;
}

/** Rows the first statement of a page measures: records averaging more than 8 KiB fill the budget within them. */
const FIRST_STEP = 128;

/**
 * The page of records matching `conditions` that `options` asks for; `nextCursor` is set when more follow, and
 * continues after the last record returned, so paging with it visits every record once. @throws INVALID_CURSOR
 *
 * What costs is measuring: turning a row's jsonb into text takes ~25 µs for 16 KiB, and a page of 1,000 such rows
 * measured whole cost ~25 ms of database CPU to return 68 of them. So the first statement measures FIRST_STEP rows
 * and, only when they leave the budget and the limit unfilled, a second one the rest of the limit: never more rows
 * than `limit` in all, and large records are measured little past the cut.
 */
export async function selectRecordPage(
  db: Db,
  conditions: (SQL | undefined)[],
  options: RecordPageOptions,
): Promise<RecordPage> {
  const budget = options.budget ?? RECORD_PAGE_BYTES;
  const items: MediaRecord[] = [];
  let after = options.cursor ? decodeCursor(options.cursor) : undefined;
  let used = 0;
  let more = false;
  do {
    const take = Math.min(items.length === 0 ? FIRST_STEP : options.limit, options.limit - items.length);
    const rows = await measuredRows(
      db,
      after ? [...conditions, afterPosition(after)] : conditions,
      take,
      budget - used,
    );
    for (const { bytes, bytesBefore: _, followed, ...record } of rows) {
      items.push(record);
      used += bytes;
      more = followed;
    }
    after = items.at(-1);
    if (rows.length === 0) more = false;
  } while (more && used < budget && items.length < options.limit);
  const last = items.at(-1);
  return more && last ? { items, nextCursor: encodeCursor(last) } : { items };
}

/**
 * At most `take` rows in page order, cut once they pass `budget` bytes. The inner query measures each row's JSON
 * (`row_to_json(...)::text`: the text, not `pg_column_size`, which is the compressed size, and compressible metadata
 * would pass the budget many times over) as the rows come out in order, and its LIMIT stops it, whatever the table
 * holds; `lead` looks one row past the limit, so no extra row is read out to tell whether more follow. The outer
 * queries sum the sizes before each row and drop the rows past the budget, so those never leave the database.
 */
function measuredRows(db: Db, conditions: (SQL | undefined)[], take: number, budget: number) {
  const order = sql`order by ${records.createdAt}, ${records.uid}`;
  const measured = db
    .select({
      ...getTableColumns(records),
      bytes: sql<number>`octet_length(row_to_json(${records})::text)`.as('bytes'),
      followed: sql<boolean>`lead(true, 1, false) over (${order})`.as('followed'),
    })
    .from(records)
    .where(and(...conditions))
    .orderBy(asc(records.createdAt), asc(records.uid))
    .limit(take)
    .as('measured');
  const summed = db
    .select({
      ...measured._.selectedFields,
      bytesBefore:
        sql<number>`(coalesce(sum(${measured.bytes}) over (order by ${measured.createdAt}, ${measured.uid} rows between unbounded preceding and 1 preceding), 0))::int`.as(
          'bytes_before',
        ),
    })
    .from(measured)
    .as('summed');
  return db.select().from(summed).where(lt(summed.bytesBefore, budget)).orderBy(asc(summed.createdAt), asc(summed.uid));
}

/** Records after a position (a cursor's, or a page's last record) in the order pages list them. */
function afterPosition(after: CursorPosition): SQL {
  return or(
    gt(records.createdAt, after.createdAt),
    and(eq(records.createdAt, after.createdAt), gt(records.uid, after.uid)),
  ) as SQL;
}
