/**
 * The file pipeline's batched statements on PostgreSQL with one text whatever the batch size: rows go as one JSON
 * parameter (`json_to_recordset`), lists as arrays (`= any(...)`), and rows come back decoded by the drizzle table's
 * own columns.
 * Drizzle builds a multi-row statement anew for every call, walking each value of each row (a quarter of the event
 * loop's samples when ingesting 2,000 small files), and each batch size was a text of its own to prepare and plan on
 * every connection. Here a text is built once per column list, prepared once per connection, and its rows are
 * encoded by one `JSON.stringify`. PGlite has no postgres.js client: the callers keep drizzle's statements there
 * (decision 0058).
 */
import { type Column, getTableColumns, getTableName, type Table } from 'drizzle-orm';
import { FileProcessingError } from '../errors.ts';
import { ILL_FORMED_TEXT_MESSAGE } from './errors.ts';
import { postgresJsOf } from './postgres-js.ts';

type Executor = Parameters<typeof postgresJsOf>[0];

/** A statement's rows as arrays, on PostgreSQL; `undefined` on another driver (the caller uses drizzle). */
export async function fixedValues(db: Executor, text: string, params: unknown[]): Promise<unknown[][] | undefined> {
  const client = postgresJsOf(db);
  if (!client) return undefined;
  return client.unsafe(text, params, { prepare: true }).values();
}

/** A table's columns by property name, with the SQL name and type of each. */
function columnsOf(table: Table): Map<string, Column> {
  return new Map(Object.entries(getTableColumns(table)));
}

/** Decodes rows returned as arrays in `keys` order into objects, each value by its column (nulls kept). */
export function rowDecoder(table: Table, keys: readonly string[]): (row: unknown[]) => Record<string, unknown> {
  const columns = columnsOf(table);
  const decoders = keys.map((key) => {
    const column = columns.get(key);
    if (!column) throw new Error(`no column ${key}`);
    return column;
  });
  return (row) => {
    const decoded: Record<string, unknown> = {};
    for (let i = 0; i < decoders.length; i++) {
      const value = row[i];
      decoded[keys[i] as string] = value === null ? null : (decoders[i] as Column).mapFromDriverValue(value);
    }
    return decoded;
  };
}

/** The quoted SQL names of `keys`' columns, comma-separated. */
export function columnList(table: Table, keys: readonly string[]): string {
  const columns = columnsOf(table);
  return keys.map((key) => `"${(columns.get(key) as Column).name}"`).join(', ');
}

/** The inserted rows (those not skipped by the conflict), or `undefined` when this is not PostgreSQL. */
export type FixedInsert<R> = (db: Executor, rows: readonly Record<string, unknown>[]) => Promise<R[] | undefined>;

/**
 * `insert into table (keys) select … from json_to_recordset(…) on conflict (conflict) do nothing returning returning`,
 * the rows as `jsonRows` sends them.
 */
export function fixedInsert<R>(
  table: Table,
  keys: readonly string[],
  conflict: string,
  returning: readonly string[],
): FixedInsert<R> {
  const id = `${getTableName(table)}|${keys.join()}|${conflict}|${returning.join()}`;
  let statement = inserts.get(id);
  if (!statement) {
    statement = buildInsert(table, keys, conflict, returning);
    inserts.set(id, statement);
  }
  return statement as FixedInsert<R>;
}

/** Each statement built once per process (its text is fixed by its column lists). */
const inserts = new Map<string, FixedInsert<unknown>>();

function buildInsert<R>(
  table: Table,
  keys: readonly string[],
  conflict: string,
  returning: readonly string[],
): FixedInsert<R> {
  const rows = jsonRows(table, keys, 1);
  const conflictColumn = columnsOf(table).get(conflict) as Column;
  const text =
    `insert into "${getTableName(table)}" (${rows.columns}) ${rows.select} ` +
    `on conflict ("${conflictColumn.name}") do nothing returning ${columnList(table, returning)}`;
  const decode = rowDecoder(table, returning);
  return async (db, values) => {
    if (!postgresJsOf(db)) return undefined;
    const returned = (await fixedValues(db, text, [rows.encode(values)])) as unknown[][];
    return returned.map((row) => decode(row) as R);
  };
}

export interface JsonRows {
  /** The quoted column names, in `keys` order. */
  columns: string;
  /** `select t."key", … from json_to_recordset($param::json) as t("key" type, …)`: the rows, typed as their columns. */
  select: string;
  /** A key's value in `select` (`t."key"`). */
  alias(key: string): string;
  /** The parameter for `select`: the rows as one JSON array. */
  encode(rows: readonly Record<string, unknown>[]): string;
}

/** Column kinds whose JSON is what drizzle would send them as (so a row can go as JSON unchanged). */
const JSON_SAFE = new Set([
  'PgText',
  'PgUUID',
  'PgEnumColumn',
  'PgInteger',
  'PgBigInt53',
  'PgDoublePrecision',
  'PgBoolean',
  'PgJsonb',
  'PgTimestamp',
]);

/**
 * Rows of `table` setting exactly `keys`, sent as one JSON array and typed by the columns in the statement
 * (`json_to_recordset`), so one text serves every batch: one `JSON.stringify` where drizzle walked every value. A row
 * must set exactly `keys` (a missing value would be null where drizzle's insert writes the column's default), a
 * number must be finite (JSON has no NaN), and a text valid Unicode (INVALID_INPUT), else `encode` throws.
 */
export function jsonRows(table: Table, keys: readonly string[], param: number): JsonRows {
  const columns = columnsOf(table);
  const definitions = keys.map((key) => {
    const column = columns.get(key);
    if (!column) throw new Error(`no column ${key}`);
    if (!JSON_SAFE.has(column.columnType)) throw new Error(`jsonRows: ${key} is a ${column.columnType}`);
    return `"${key}" ${column.getSQLType()}`;
  });
  return {
    columns: columnList(table, keys),
    select: `select ${keys.map((key) => `t."${key}"`).join(', ')} from json_to_recordset($${param}::json) as t(${definitions.join(', ')})`,
    alias: (key) => {
      if (!columns.has(key)) throw new Error(`no column ${key}`);
      return `t."${key}"`;
    },
    encode: (rows) => {
      for (const row of rows) {
        if (Object.keys(row).length !== keys.length) throw new Error('jsonRows: a row sets other columns');
        for (const key of keys) {
          const value = row[key];
          if (value === undefined) throw new Error(`jsonRows: a row does not set ${key}`);
          if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`jsonRows: ${key} is ${value}`);
          // As for every other parameter (prepared-client.ts): JSON would carry it escaped, for the server to refuse.
          if (typeof value === 'string' && !value.isWellFormed()) {
            throw new FileProcessingError(ILL_FORMED_TEXT_MESSAGE, 'INVALID_INPUT');
          }
        }
      }
      return JSON.stringify(rows);
    },
  };
}
