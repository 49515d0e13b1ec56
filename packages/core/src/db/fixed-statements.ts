/**
 * The file pipeline's batched statements on PostgreSQL with one text whatever the batch size: each column's values go
 * as one array parameter (`unnest`, `= any(...)`), and rows come back decoded by the drizzle table's own columns.
 * Drizzle builds a multi-row statement anew for every call, walking each value of each row (a quarter of the event
 * loop's samples when ingesting 2,000 small files), and each batch size was a text of its own to prepare and plan on
 * every connection. Here a text is built once per column list, prepared once per connection, and its values are
 * encoded by a loop. PGlite has no postgres.js client: the callers keep drizzle's statements there (decision 0058).
 */
import { type Column, getTableColumns, getTableName, type Table } from 'drizzle-orm';
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
 * `insert into table (keys) select … from unnest(…) on conflict (conflict) do nothing returning returning`, the rows
 * as `unnestRows` sends them.
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
  const rows = unnestRows(table, keys, 1);
  const conflictColumn = columnsOf(table).get(conflict) as Column;
  const text =
    `insert into "${getTableName(table)}" (${rows.columns}) ${rows.select} ` +
    `on conflict ("${conflictColumn.name}") do nothing returning ${columnList(table, returning)}`;
  const decode = rowDecoder(table, returning);
  return async (db, values) => {
    if (!postgresJsOf(db)) return undefined;
    const returned = (await fixedValues(db, text, rows.encode(values))) as unknown[][];
    return returned.map((row) => decode(row) as R);
  };
}

export interface UnnestRows {
  /** The quoted column names, in `keys` order. */
  columns: string;
  /** `select c0::type as c0, … from unnest($first::text[], …) as t(c0, …)`: the rows, typed as their columns. */
  select: string;
  /** The name of a key's column in `select` (`c` and its place in `keys`). */
  alias(key: string): string;
  /** The parameters for `select`: one array of text values per column. */
  encode(rows: readonly Record<string, unknown>[]): (string | null)[][];
}

/**
 * Rows of `table` setting exactly `keys`, as one text array per column (`null` stays null), each value encoded by its
 * column as drizzle would and cast back to the column's type in the statement, so one text serves every batch. A row
 * must set exactly `keys` (a missing value would be null where drizzle's insert writes the column's default), else
 * `encode` throws.
 */
export function unnestRows(table: Table, keys: readonly string[], first: number): UnnestRows {
  const columns = columnsOf(table);
  const used = keys.map((key) => {
    const column = columns.get(key);
    if (!column) throw new Error(`no column ${key}`);
    return column;
  });
  const names = used.map((_, i) => `c${i}`);
  return {
    columns: columnList(table, keys),
    select:
      `select ${used.map((column, i) => `c${i}::${column.getSQLType()} as c${i}`).join(', ')} ` +
      `from unnest(${used.map((_, i) => `$${first + i}::text[]`).join(', ')}) as t(${names.join(', ')})`,
    alias: (key) => {
      const index = keys.indexOf(key);
      if (index < 0) throw new Error(`no key ${key}`);
      return `c${index}`;
    },
    encode: (rows) => {
      for (const row of rows) {
        if (Object.keys(row).length !== keys.length) throw new Error('unnestRows: a row sets other columns');
      }
      return used.map((column, i) => {
        const key = keys[i] as string;
        return rows.map((row) => {
          const value = row[key];
          if (value === undefined) throw new Error(`unnestRows: a row does not set ${key}`);
          return value === null ? null : asText(column.mapToDriverValue(value));
        });
      });
    },
  };
}

/** A driver value as PostgreSQL's text input for it. */
function asText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
