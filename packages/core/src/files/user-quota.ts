/**
 * Per-user quotas: the bytes of live objects a user owns (`USER_STORAGE_QUOTA_MB`) and the records a user owns
 * (`USER_MAX_RECORDS`), so one user cannot fill the disk or the database everyone shares. Objects and records
 * without a user (admin-created) are not counted. 0 means unlimited.
 */
import { inArray, sql } from 'drizzle-orm';
import type { UserQuotaSettings } from '../config/settings.ts';
import type { Db } from '../db/database.ts';
import { recordsLock } from '../db/owner-gates.ts';
import { usageCounts } from '../db/schema.ts';
import { FileProcessingError } from '../errors.ts';
import type { Executor } from '../queue/rows.ts';
import { keptTaskBytes } from '../queue/task-storage.ts';

export interface UserUsage {
  userId: string;
  /** Bytes of the user's live objects: referenced files, thumbnails, leftovers and writes in flight. */
  storageBytes: number;
  records: number;
  /** Bytes of task input the user's tasks keep until their items are pruned (USER_TASK_STORAGE_MB). */
  taskBytes: number;
  /** The limits in force; 0 means unlimited. */
  limits: Required<UserQuotaSettings>;
}

/** What one user takes up now, with the limits that apply. */
export async function userUsage(db: Db, userId: string, limits: UserQuotaSettings): Promise<UserUsage> {
  const held = await heldBy(db, userId);
  return {
    userId,
    storageBytes: held.bytes,
    records: held.records,
    taskBytes: await keptTaskBytes(db as unknown as Executor, userId),
    limits: { ...limits, taskBytes: limits.taskBytes ?? 0 },
  };
}

/**
 * Refuses (QUOTA_EXCEEDED) a file of `bytes` that would take its owner past the storage quota — and, when the file
 * makes a new record (URL ingest), past the record cap. Called before the object's key is reserved, so a refused
 * file writes nothing. On its own the storage check is not serialised; `reserveWithinQuota` runs it with the
 * reservation under the owner's lock, so that stores running at once cannot together pass the quota. The record cap
 * is checked again in the commit that inserts the record, under the owner's lock, so it holds exactly.
 */
export async function checkFileQuota(
  ctx: { db: Db; settings?: { quota?: UserQuotaSettings } },
  ownerId: string | null,
  bytes: number,
  newRecord = false,
): Promise<void> {
  const quota = ctx.settings?.quota;
  if (!quota || ownerId === null) return;
  if (quota.storageBytes <= 0 && (!newRecord || quota.maxRecords <= 0)) return;
  const refusal = fileQuotaRefusal(quota, await heldBy(ctx.db, ownerId), bytes, newRecord);
  if (refusal) throw refusal;
}

/** What one owner holds, as the quotas count it. */
export interface Held {
  bytes: number;
  records: number;
}

/** Why a file of `bytes` (making a new record or not) does not fit beside what its owner holds, or undefined. */
export function fileQuotaRefusal(
  quota: UserQuotaSettings,
  held: Held,
  bytes: number,
  newRecord: boolean,
): FileProcessingError | undefined {
  if (quota.storageBytes > 0 && held.bytes + bytes > quota.storageBytes) {
    return quotaExceeded(
      `This file (${bytes} bytes) would take the user's stored files to ${held.bytes + bytes} bytes, over the quota of ${quota.storageBytes} bytes; delete files or records to make room.`,
      { kind: 'storage', used: held.bytes, requested: bytes, limit: quota.storageBytes },
    );
  }
  return newRecord ? recordsRefusal(quota, held.records, 1) : undefined;
}

function recordsRefusal(quota: UserQuotaSettings, used: number, requested: number): FileProcessingError | undefined {
  if (quota.maxRecords <= 0 || used + requested <= quota.maxRecords) return undefined;
  return quotaExceeded(
    `The user owns ${used} records; ${requested} more would pass the limit of ${quota.maxRecords}. Delete records to make room.`,
    { kind: 'records', used, requested, limit: quota.maxRecords },
  );
}

/** What each of `owners` holds (kept by the database's triggers, migration 0012: one row per owner). */
export async function heldByEach(db: Db, owners: readonly string[]): Promise<Map<string, Held>> {
  const rows = await db
    .select({ userId: usageCounts.userId, bytes: usageCounts.storedBytes, records: usageCounts.records })
    .from(usageCounts)
    .where(inArray(usageCounts.userId, [...owners]));
  const held = new Map<string, Held>(owners.map((owner) => [owner, { bytes: 0, records: 0 }]));
  for (const row of rows) held.set(row.userId, { bytes: Number(row.bytes), records: Number(row.records) });
  return held;
}

async function heldBy(db: Db, owner: string): Promise<Held> {
  return (await heldByEach(db, [owner])).get(owner) as Held;
}

/**
 * Refuses (QUOTA_EXCEEDED) creating `adding` more records per user past the record cap. Run it inside the
 * transaction that inserts them: it holds a per-user advisory lock until that transaction ends, so concurrent
 * creations, from any process, cannot race past the cap.
 */
export async function checkRecordQuota(
  db: Db,
  quota: UserQuotaSettings,
  adding: ReadonlyMap<string, number>,
): Promise<void> {
  if (quota.maxRecords <= 0) return;
  // Users in a fixed order, so two batches for the same users cannot deadlock on each other's locks.
  for (const userId of [...adding.keys()].sort()) {
    const requested = adding.get(userId) ?? 0;
    await db.execute(sql`select pg_advisory_xact_lock(hashtext(${recordsLock(userId)}))`);
    const refusal = recordsRefusal(quota, (await heldBy(db, userId)).records, requested);
    if (refusal) throw refusal;
  }
}

function quotaExceeded(message: string, details: Record<string, unknown>): FileProcessingError {
  return new FileProcessingError(message, 'QUOTA_EXCEEDED', { details });
}
