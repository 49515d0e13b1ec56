/** Totals for dashboards and metrics: records and stored bytes by media type, and what dedupe saved. */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import {
  MEDIA_TYPES,
  type MediaType,
  records,
  TASK_STATUSES,
  type TaskStatus,
  taskItems,
  tasks,
} from '../db/schema.ts';
import { type Scope, scopeCondition } from '../scope.ts';

export interface MediaTotals {
  records: number;
  /** Records with a stored file. */
  files: number;
  /** Bytes of those files (a duplicate counts its shared object's size). */
  bytes: number;
}

export interface RecordStats extends MediaTotals {
  byMediaType: Record<MediaType, MediaTotals>;
  /** Records whose file is another record's object, and the bytes that did not have to be stored again. */
  duplicates: number;
  duplicateBytesSaved: number;
}

/** Totals over every record, or one owner's. */
export async function recordStats(db: Db, scope: Scope): Promise<RecordStats> {
  const rows = await db
    .select({
      mediaType: records.mediaType,
      records: sql<number>`count(*)::int`,
      files: sql<number>`count(${records.storageKey})::int`,
      bytes: sql<string>`coalesce(sum(${records.fileSize}) filter (where ${records.storageKey} is not null), 0)::text`,
      duplicates: sql<number>`(count(*) filter (where ${records.metadata} ? 'duplicate_of'))::int`,
      saved: sql<string>`coalesce(sum(${records.fileSize}) filter (where ${records.metadata} ? 'duplicate_of'), 0)::text`,
    })
    .from(records)
    .where(scopeCondition(records.userId, scope))
    .groupBy(records.mediaType);
  const byMediaType = Object.fromEntries(
    MEDIA_TYPES.map((type) => [type, { records: 0, files: 0, bytes: 0 }]),
  ) as Record<MediaType, MediaTotals>;
  const stats: RecordStats = { records: 0, files: 0, bytes: 0, byMediaType, duplicates: 0, duplicateBytesSaved: 0 };
  for (const row of rows) {
    const totals = { records: Number(row.records), files: Number(row.files), bytes: Number(row.bytes) };
    byMediaType[row.mediaType] = totals;
    stats.records += totals.records;
    stats.files += totals.files;
    stats.bytes += totals.bytes;
    stats.duplicates += Number(row.duplicates);
    stats.duplicateBytesSaved += Number(row.saved);
  }
  return stats;
}

export interface QueueStats {
  tasks: Record<TaskStatus, number>;
  items: Record<TaskStatus, number>;
}

/** Tasks and items by status (items of pruned tasks are gone; their tasks still count). */
export async function queueStats(db: Db): Promise<QueueStats> {
  const zero = () => Object.fromEntries(TASK_STATUSES.map((status) => [status, 0])) as Record<TaskStatus, number>;
  const stats: QueueStats = { tasks: zero(), items: zero() };
  const taskRows = await db
    .select({ status: tasks.status, n: sql<number>`count(*)::int` })
    .from(tasks)
    .groupBy(tasks.status);
  for (const row of taskRows) stats.tasks[row.status] = Number(row.n);
  const itemRows = await db
    .select({ status: taskItems.status, n: sql<number>`count(*)::int` })
    .from(taskItems)
    .groupBy(taskItems.status);
  for (const row of itemRows) stats.items[row.status] = Number(row.n);
  return stats;
}
