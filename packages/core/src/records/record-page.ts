/**
 * How records are listed in pages, for every listing of them (RecordRepository.list, a generation's media): oldest
 * first by (created_at, uid), continued after a cursor, and cut at a byte budget DynamoDB-style. A page ends at
 * `limit` records or once its records pass RECORD_PAGE_BYTES of JSON, whichever comes first, and holds at least one
 * record. The database measures and cuts, so a page of large records is never read out of it whole: one page of
 * 1,000 records with 16 KiB of metadata each was 16 MB, built and serialised on the API's event loop, and 64 of them
 * at once slowed every other caller to seconds and took a gigabyte of server memory.
 */
import { and, asc, eq, getTableColumns, gt, lt, or, type SQL, sql } from 'drizzle-orm';
import { budgetedPage, bytesBefore } from '../db/budgeted-page.ts';
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

/**
 * The page of records matching `conditions` that `options` asks for; `nextCursor` is set when more follow, and
 * continues after the last record returned, so paging with it visits every record once. @throws INVALID_CURSOR
 */
export async function selectRecordPage(
  db: Db,
  conditions: (SQL | undefined)[],
  options: RecordPageOptions,
): Promise<RecordPage> {
  const start = options.cursor ? decodeCursor(options.cursor) : undefined;
  const { items, more } = await budgetedPage<MediaRecord>(
    options.limit,
    options.budget ?? RECORD_PAGE_BYTES,
    async (last, take, left) => {
      const after = last ?? start;
      const rows = await measuredRows(db, after ? [...conditions, afterPosition(after)] : conditions, take, left);
      return rows.map(({ bytes, bytesBefore: _, followed, ...record }) => ({ row: record, bytes, followed }));
    },
  );
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
      bytesBefore: bytesBefore(measured.bytes, sql`order by ${measured.createdAt}, ${measured.uid}`),
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
