/**
 * A generation's view (the seed's `generation_service.update_generation_media` counterpart): the media its records
 * hold, each with its status, counts by status, and the tasks queued for it, all within the caller's scope.
 */
import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { type TaskStatus, tasks } from '../db/queue-schema.ts';
import { RECORD_STATUSES, type RecordStatus, records } from '../db/schema.ts';
import { FileProcessingError } from '../errors.ts';
import { type Scope, scopeCondition } from '../scope.ts';
import type { MediaRecord } from './record.ts';
import { selectRecordPage } from './record-page.ts';

/** Most media listed in one view (counts always cover all of them). */
export const MAX_GENERATION_MEDIA = 1000;
const MAX_GENERATION_TASKS = 50;

export interface GenerationView {
  generationId: string;
  /** Records of the generation by status, and in all. */
  counts: Record<RecordStatus, number> & { total: number };
  /** Its records oldest first (after `cursor`): at most `limit`, fewer when they would pass RECORD_PAGE_BYTES of JSON. */
  media: MediaRecord[];
  /** True when more records follow those `media` lists. */
  truncated: boolean;
  /** Set when more records follow: pass it back as `cursor` for the next page of `media`. */
  nextCursor?: string;
  /** Tasks queued for the generation, newest first (at most 50). */
  tasks: { taskId: string; kind: string; status: TaskStatus; createdAt: Date; finishedAt: Date | null }[];
}

/** @throws GENERATION_NOT_FOUND when the scope has no record and no task with this generation id */
export async function getGeneration(
  db: Db,
  generationId: string,
  scope: Scope,
  { limit = 200, cursor }: { limit?: number; cursor?: string | undefined } = {},
): Promise<GenerationView> {
  const id = generationId.trim();
  if (!id || id.length > 200) throw notFound(generationId.slice(0, 200));
  const take = Math.min(Math.max(Math.trunc(limit), 1), MAX_GENERATION_MEDIA);
  const inRecords = [eq(records.generationId, id), scopeCondition(records.userId, scope)];
  const [page, statusRows, taskRows] = await Promise.all([
    selectRecordPage(db, inRecords, { limit: take, cursor }),
    db
      .select({ status: records.status, n: sql<number>`count(*)::int` })
      .from(records)
      .where(and(...inRecords))
      .groupBy(records.status),
    db
      .select({
        taskId: tasks.id,
        kind: tasks.kind,
        status: tasks.status,
        createdAt: tasks.createdAt,
        finishedAt: tasks.finishedAt,
      })
      .from(tasks)
      .where(and(eq(tasks.generationId, id), scopeCondition(tasks.userId, scope)))
      .orderBy(desc(tasks.createdAt))
      .limit(MAX_GENERATION_TASKS),
  ]);
  const counts = Object.fromEntries(RECORD_STATUSES.map((status) => [status, 0])) as GenerationView['counts'];
  counts.total = 0;
  for (const row of statusRows) {
    counts[row.status] = row.n;
    counts.total += row.n;
  }
  // Known by its records or its tasks: a cursor past its last record still finds it.
  if (counts.total === 0 && taskRows.length === 0) throw notFound(id);
  const { items: media, nextCursor } = page;
  return {
    generationId: id,
    counts,
    media,
    truncated: nextCursor !== undefined,
    ...(nextCursor ? { nextCursor } : {}),
    tasks: taskRows,
  };
}

function notFound(id: string): FileProcessingError {
  return new FileProcessingError(
    `Generation ${id} not found: no record or task of yours names it.`,
    'GENERATION_NOT_FOUND',
    { details: { generationId: id } },
  );
}
