/** Queues an `optimization` task: recompress the stored images of a user or of a generation, one item per record. */
import { and, asc, eq, isNotNull } from 'drizzle-orm';
import type { Database } from '../db/database.ts';
import { records } from '../db/schema.ts';
import { FileProcessingError } from '../errors.ts';
import { type Scope, scopeCondition, scopeUser } from '../scope.ts';
import type { EnqueueOptions } from './queue.ts';
import { type QueueCommon, queueCommonSpec, type TaskManager } from './task-manager.ts';

/** Routing and limits as for other tasks; no webhook or idempotency key (queued straight on the queue). */
export interface QueueOptimizationInput extends Omit<QueueCommon, 'webhook' | 'idempotencyKey'> {
  /** Whose records may be touched; a user scope always narrows to that user. */
  scope: Scope;
  /** The images of this user (admins; a user scope implies its own). */
  userId?: string;
  /** The images of this generation. */
  generationId?: string;
  /** Recompression quality 1-100. Default 80. */
  quality?: number;
  /** Records per task (oldest first). Default and maximum: MAX_BATCH_SIZE. */
  limit?: number;
}

/** @throws INVALID_TASK (no target), NOTHING_TO_DO (no stored images) */
export async function queueOptimization(
  manager: TaskManager,
  database: Pick<Database, 'db'>,
  maxBatchSize: number,
  input: QueueOptimizationInput,
  enqueue: EnqueueOptions = {},
): Promise<string> {
  const owner = scopeUser(input.scope) ?? input.userId;
  if (owner === undefined && input.generationId === undefined) {
    throw new FileProcessingError('Name the images to optimize: a user or a generation.', 'INVALID_TASK');
  }
  const quality = input.quality ?? 80;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw new FileProcessingError(`quality must be an integer from 1 to 100 (got ${quality}).`, 'INVALID_TASK');
  }
  const limit = Math.max(1, Math.min(input.limit ?? maxBatchSize, maxBatchSize));
  const found = await database.db
    .select({ uid: records.uid })
    .from(records)
    .where(
      and(
        scopeCondition(records.userId, input.scope),
        owner === undefined ? undefined : eq(records.userId, owner),
        input.generationId === undefined ? undefined : eq(records.generationId, input.generationId),
        eq(records.mediaType, 'image'),
        isNotNull(records.storageKey),
      ),
    )
    .orderBy(asc(records.createdAt), asc(records.uid))
    .limit(limit);
  if (found.length === 0) throw new FileProcessingError('No stored images match.', 'NOTHING_TO_DO');
  return manager.queue.enqueue(
    {
      kind: 'optimization',
      payloads: found.map((record) => ({ uid: record.uid })),
      userId: owner ?? null,
      generationId: input.generationId ?? null,
      options: { quality },
      ...queueCommonSpec('optimization', input),
    },
    enqueue,
  );
}
