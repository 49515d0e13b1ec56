/**
 * The API's hottest query, one record by uid, on PostgreSQL: one prepared postgres.js statement and a row mapping
 * built once from the drizzle table (each column decoded by its own `mapFromDriverValue`, nulls kept, as drizzle's
 * `mapResultRow` does). Drizzle's prepared `execute` around the same statement (tracing spans, placeholder filling,
 * its generic result mapper with an entity check per column) cost ~7–10% of a record read in a profile. PGlite has no
 * postgres.js client: there the repository keeps drizzle's prepared query.
 */
import { getTableColumns } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { columnList, rowDecoder } from '../db/fixed-statements.ts';
import { postgresJsOf } from '../db/postgres-js.ts';
import { records } from '../db/schema.ts';
import type { MediaRecord } from './record.ts';

/** A reader of one record by uid on PostgreSQL (postgres.js), or undefined on another driver. */
/** Every column of `records` in table order: property names, their SQL list, and the decoder of a row of them. */
export const RECORD_KEYS = Object.keys(getTableColumns(records));
export const RECORD_COLUMNS = columnList(records, RECORD_KEYS);
const decodeRow = rowDecoder(records, RECORD_KEYS);
export const decodeRecordRow = (row: unknown[]) => decodeRow(row) as MediaRecord;

export function postgresRecordReader(db: Db): ((uid: string) => Promise<MediaRecord | undefined>) | undefined {
  const sql = postgresJsOf(db);
  if (!sql) return undefined;
  const text = `select ${RECORD_COLUMNS} from "records" where "uid" = $1`;
  return async (uid) => {
    const [row] = await sql.unsafe(text, [uid], { prepare: true }).values();
    return row ? decodeRecordRow(row) : undefined;
  };
}
