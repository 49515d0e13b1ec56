/**
 * What generating a file asks of a record and a size, without the synthesisers: the task manager and the scheduler
 * check a request with these, so queueing or listing tasks does not load the media encoders.
 */
import { and, asc, inArray, isNull, or } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { records } from '../db/schema.ts';
import { FileProcessingError, FileSizeExceededError } from '../errors.ts';
import { staleClaim } from '../files/record-claims.ts';
import type { MediaRecord } from '../records/record.ts';
import { type Scope, scopeCondition } from '../scope.ts';

export const DEFAULT_FILE_SIZE_KB = 15;

/** Records in the scope that need a file: pending or failed without one, or claims abandoned for `staleAfterMs`. */
export function recordsWithoutFiles(db: Db, scope: Scope, staleAfterMs: number, limit = 100): Promise<MediaRecord[]> {
  return db
    .select()
    .from(records)
    .where(
      and(
        isNull(records.storageKey),
        or(inArray(records.status, ['pending', 'failed']), staleClaim(staleAfterMs)),
        scopeCondition(records.userId, scope),
      ),
    )
    .orderBy(asc(records.createdAt), asc(records.uid))
    .limit(Math.max(1, Math.min(limit, 100_000)));
}

/** The requested size in bytes. @throws INVALID_SIZE, FILE_SIZE_EXCEEDED before anything is claimed */
export function checkedSize(fileSizeKb: number, maxFileSizeBytes: number): number {
  const sizeBytes = Math.round(fileSizeKb * 1024);
  if (!Number.isFinite(fileSizeKb) || !(fileSizeKb >= 1)) {
    throw new FileProcessingError(`File size must be at least 1 KiB (got ${fileSizeKb}).`, 'INVALID_SIZE', {
      details: { fileSizeKb },
    });
  }
  if (sizeBytes > maxFileSizeBytes) {
    throw new FileSizeExceededError(maxFileSizeBytes, sizeBytes, 'The requested file');
  }
  return sizeBytes;
}
