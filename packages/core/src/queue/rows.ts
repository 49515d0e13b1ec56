/** Raw-statement plumbing shared by the queue's SQL: one result shape whichever driver runs it. */
import { type SQL, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Db } from '../db/database.ts';
import { postgresJsOf } from '../db/postgres-js.ts';
import { UNPREPARED } from '../db/prepared-client.ts';

/** A database or a transaction: every queue statement can join the caller's transaction. */
export type Executor = Pick<Db, 'execute'>;

const dialect = new PgDialect();

/**
 * Runs a raw statement and returns its rows (postgres-js returns an array, PGlite `{ rows }`). On PostgreSQL it stays
 * unnamed, planned for its parameters on every run, though the database's client prepares drizzle's statements
 * (prepared-client.ts): the queue chooses per statement between this and `preparedRows`.
 */
export async function rows<T>(db: Executor, query: SQL): Promise<T[]> {
  const client = postgresJsOf(db);
  if (client) {
    const { sql, params } = dialect.sqlToQuery(query);
    return (await client.unsafe(sql, params, UNPREPARED)) as T[];
  }
  const result = (await db.execute(query)) as unknown as T[] | { rows: T[] };
  return Array.isArray(result) ? result : result.rows;
}

/**
 * `rows`, as a named prepared statement on PostgreSQL: drizzle runs raw SQL unnamed, which postgres.js sends in two
 * round trips (Parse + Describe first, to learn the parameter types, then Bind + Execute), planned anew each time.
 * Prepared, a connection parses and describes it once and later runs are one round trip. Only for the queue's hot
 * statements, whose text is fixed (data only in parameters): every distinct text stays prepared on each connection.
 */
export async function preparedRows<T>(db: Executor, query: SQL): Promise<T[]> {
  const client = postgresJsOf(db);
  if (!client) return rows<T>(db, query);
  const { sql, params } = dialect.sqlToQuery(query);
  return (await client.unsafe(sql, params, { prepare: true })) as T[];
}

/** Timestamps arrive as Date from both drivers, but as text inside json aggregates. */
export function toDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value : new Date(String(value));
}

export function toNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

/** An id list as one text parameter (`string_to_array`): one statement text for any number of ids. */
export const idList = (ids: readonly number[]) => sql`string_to_array(${ids.join(',')}, ',')::bigint[]`;
