/** Checks of the fault run against the stores themselves: S3 read directly (not through the faulty proxy). */
import { createHash } from 'node:crypto';
import { openDatabase, sweepObjects } from '@mediaforge/core';
import type { ObjectStore } from '@mediaforge/storage';
import type postgres from 'postgres';

export async function sha256Of(stream: ReadableStream<Uint8Array>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest('hex');
}

/** Keys in the S3 server that no record refers to. */
export async function objectsWithoutRecord(direct: ObjectStore, referenced: Set<string | null>): Promise<string[]> {
  const found: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await direct.list('', cursor ? { cursor } : {});
    for (const object of page.items) if (!referenced.has(object.key)) found.push(object.key);
    cursor = page.nextCursor;
  } while (cursor);
  return found;
}

/**
 * The worker's maintenance sweep, run once its grace (2 × TASK_TIMEOUT_MINUTES) has passed: the clock of the
 * objects table is moved back past it rather than waiting, then the sweep runs with no grace.
 */
export async function sweepAfterGrace(
  sql: postgres.Sql,
  url: string,
  direct: ObjectStore,
): Promise<{ removed: number }> {
  await sql`update objects set created_at = created_at - interval '3 hours', updated_at = updated_at - interval '3 hours'`;
  const database = await openDatabase({ url });
  try {
    return await sweepObjects(database.db, direct, { graceMs: 0 });
  } finally {
    await database.close();
  }
}

export async function tryQuery<T>(query: () => Promise<T>): Promise<T | undefined> {
  try {
    return await query();
  } catch {
    return undefined;
  }
}
