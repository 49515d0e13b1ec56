/**
 * Re-reads stored files to fill their records' media columns: for records stored before those columns existed
 * (migration 0006 copies what `metadata.media` held, which lacks frame rates, streams, rotation and orientation).
 * Each object goes through the pipeline's own prepare step (detect, spool, validate; never recompressed), one page of
 * records at a time, and only the media columns change, guarded on the record still holding the same object.
 */
import type { Db } from '../db/database.ts';
import type { MediaType } from '../db/schema.ts';
import type { ErrorCode } from '../error-codes.ts';
import { FileProcessingError } from '../errors.ts';
import { RecordRepository } from '../records/repository.ts';
import type { Scope } from '../scope.ts';
import { asTypedError } from '../typed-error.ts';
import type { FileStore } from './file-store.ts';
import { setMediaColumns } from './media-columns.ts';
import { withPreparedFile } from './prepare.ts';

export interface ReprobeOptions {
  mediaType?: MediaType;
  /** Records per call, 1–1000 (default 100). */
  limit?: number;
  cursor?: string;
  signal?: AbortSignal;
}

export interface ReprobeResult {
  checked: number;
  updated: number;
  failed: { uid: string; code: ErrorCode; message: string }[];
  nextCursor?: string;
}

/** Re-probes one page of stored files in the scope, oldest first; pass `nextCursor` back for the next page. */
export async function reprobeMedia(
  ctx: { db: Db; store: FileStore; settings: { home: string; maxFileSizeBytes: number } },
  scope: Scope,
  options: ReprobeOptions = {},
): Promise<ReprobeResult> {
  const page = await new RecordRepository(ctx.db).list(scope, {
    status: 'uploaded',
    limit: options.limit ?? 100,
    ...(options.mediaType ? { mediaType: options.mediaType } : {}),
    ...(options.cursor ? { cursor: options.cursor } : {}),
  });
  const result: ReprobeResult = { checked: 0, updated: 0, failed: [] };
  for (const record of page.items) {
    if (options.signal?.aborted || !record.storageKey) break;
    result.checked += 1;
    try {
      const object = await ctx.store.get(record.storageKey);
      if (!object) {
        throw new FileProcessingError(`The object ${record.storageKey} is missing from storage.`, 'FILE_NOT_FOUND');
      }
      const prepare = { home: ctx.settings.home, compress: false, maxSize: ctx.settings.maxFileSizeBytes };
      const details = await withPreparedFile(object.body, prepare, async (file) => {
        // Damaged bytes are reported, never described: the record's sha256 is what the object must hash to.
        if (record.sha256 && file.sha256 !== record.sha256) {
          throw new FileProcessingError(
            `The object ${record.storageKey} no longer hashes to the record's sha256; it was not re-read.`,
            'INTEGRITY_ERROR',
          );
        }
        return file.details;
      });
      if (await setMediaColumns(ctx.db, record.uid, record.storageKey, details)) result.updated += 1;
    } catch (error) {
      const typed = asTypedError(error);
      result.failed.push({ uid: record.uid, code: typed.code, message: typed.message });
    }
  }
  return page.nextCursor ? { ...result, nextCursor: page.nextCursor } : result;
}
