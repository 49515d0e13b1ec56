/** Raw-statement plumbing shared by the queue's SQL: one result shape whichever driver runs it. */
import type { SQL } from 'drizzle-orm';
import type { Db } from '../db/database.ts';

/** A database or a transaction: every queue statement can join the caller's transaction. */
export type Executor = Pick<Db, 'execute'>;

/** Runs a raw statement and returns its rows (postgres-js returns an array, PGlite `{ rows }`). */
export async function rows<T>(db: Executor, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as T[] | { rows: T[] };
  return Array.isArray(result) ? result : result.rows;
}

/** Timestamps arrive as Date from both drivers, but as text inside json aggregates. */
export function toDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value : new Date(String(value));
}

export function toNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}
