/** Raw-statement plumbing shared by the queue's SQL: one result shape whichever driver runs it. */
import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Db } from '../db/database.ts';
import { postgresJsOf } from '../db/postgres-js.ts';

/** A database or a transaction: every queue statement can join the caller's transaction. */
export type Executor = Pick<Db, 'execute'>;

/** Runs a raw statement and returns its rows (postgres-js returns an array, PGlite `{ rows }`). */
export async function rows<T>(db: Executor, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as T[] | { rows: T[] };
  return Array.isArray(result) ? result : result.rows;
}

const dialect = new PgDialect();

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
