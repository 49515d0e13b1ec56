/**
 * Per-user quotas: the bytes of live objects a user owns (`USER_STORAGE_QUOTA_MB`) and the records a user owns
 * (`USER_MAX_RECORDS`), so one user cannot fill the disk or the database everyone shares. Objects and records
 * without a user (admin-created) are not counted. 0 means unlimited.
 */
import { and, eq, gt, sql } from 'drizzle-orm';
import type { UserQuotaSettings } from '../config/settings.ts';
import type { Db } from '../db/database.ts';
import { tasks, usageCounts } from '../db/schema.ts';
import { FileProcessingError } from '../errors.ts';
import { withDeadlockRetry } from '../retry/rerun.ts';
import { type NewObject, reserveObjectKey } from './objects.ts';

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
  return {
    userId,
    storageBytes: await storedBytes(db, userId),
    records: await ownedRecords(db, userId),
    taskBytes: await keptTaskBytes(db, userId),
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
  if (quota.storageBytes > 0) {
    const used = await storedBytes(ctx.db, ownerId);
    if (used + bytes > quota.storageBytes) {
      throw quotaExceeded(
        `This file (${bytes} bytes) would take the user's stored files to ${used + bytes} bytes, over the quota of ${quota.storageBytes} bytes; delete files or records to make room.`,
        { kind: 'storage', used, requested: bytes, limit: quota.storageBytes },
      );
    }
  }
  if (newRecord) await checkRecordQuota(ctx.db, quota, new Map([[ownerId, 1]]), { lock: false });
}

/**
 * Reserves an object's key (`reserve`) within its owner's storage quota. With a storage quota, the check and the
 * reservation are one transaction under a per-owner lock: the reservation's size counts in the owner's usage at once
 * (a reserved object is live), so a second store of the same owner, in this process or another, sees it and is
 * refused if both would not fit. Without a quota, or for an object without an owner, it is the check and `reserve`.
 */
export async function reserveWithinQuota(
  ctx: { db: Db; settings?: { quota?: UserQuotaSettings } },
  object: NewObject,
  reserve: (db: Db, object: NewObject) => Promise<string>,
  newRecord = false,
): Promise<string> {
  const quota = ctx.settings?.quota;
  const owner = object.ownerId;
  if (!quota || owner === null || quota.storageBytes <= 0) {
    await checkFileQuota(ctx, owner, object.size, newRecord);
    return reserve(ctx.db, object);
  }
  return withDeadlockRetry(() =>
    ctx.db.transaction(async (transaction) => {
      const tx = transaction as unknown as Db;
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`mediaforge-storage:${owner}`}))`);
      await checkFileQuota({ db: tx, settings: { quota } }, owner, object.size, newRecord);
      return reserveObjectKey(tx, object);
    }),
  );
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
  { lock = true }: { lock?: boolean } = {},
): Promise<void> {
  if (quota.maxRecords <= 0) return;
  // Users in a fixed order, so two batches for the same users cannot deadlock on each other's locks.
  for (const userId of [...adding.keys()].sort()) {
    const requested = adding.get(userId) ?? 0;
    if (lock) await db.execute(sql`select pg_advisory_xact_lock(hashtext(${`mediaforge-records:${userId}`}))`);
    const used = await ownedRecords(db, userId);
    if (used + requested > quota.maxRecords) {
      throw quotaExceeded(
        `The user owns ${used} records; ${requested} more would pass the limit of ${quota.maxRecords}. Delete records to make room.`,
        { kind: 'records', used, requested, limit: quota.maxRecords },
      );
    }
  }
}

function quotaExceeded(message: string, details: Record<string, unknown>): FileProcessingError {
  return new FileProcessingError(message, 'QUOTA_EXCEEDED', { details });
}

// Kept by the database's triggers (migration 0012): one row, however much the user holds.
async function storedBytes(db: Db, userId: string): Promise<number> {
  const [row] = await db
    .select({ bytes: usageCounts.storedBytes })
    .from(usageCounts)
    .where(eq(usageCounts.userId, userId));
  return Number(row?.bytes ?? 0);
}

// Served by tasks_user_stored_idx (only tasks whose items are not yet pruned).
async function keptTaskBytes(db: Db, userId: string): Promise<number> {
  const [row] = await db
    .select({ bytes: sql<string>`coalesce(sum(${tasks.storedBytes}), 0)` })
    .from(tasks)
    .where(and(eq(tasks.userId, userId), gt(tasks.storedBytes, 0)));
  return Number(row?.bytes ?? 0);
}

// Kept by the database's triggers, like the bytes.
async function ownedRecords(db: Db, userId: string): Promise<number> {
  const [row] = await db.select({ n: usageCounts.records }).from(usageCounts).where(eq(usageCounts.userId, userId));
  return Number(row?.n ?? 0);
}
