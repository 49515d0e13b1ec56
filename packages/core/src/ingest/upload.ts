/**
 * Uploads (the API's `POST /v1/records/{uid}/file`): a client's stream becomes an existing record's file through
 * the same verification and storage as ingest. The record is claimed (`processing`) for the duration, so two
 * uploads to one record cannot interleave their object and row writes; on any failure the record returns to the
 * state it had, and no object is left behind.
 */
import { and, eq, lt, ne, or, sql } from 'drizzle-orm';
import type { Settings } from '../config/settings.ts';
import type { Db } from '../db/database.ts';
import { records } from '../db/schema.ts';
import { FileProcessingError, RecordNotFoundError } from '../errors.ts';
import type { GeneratorStore } from '../generate/store.ts';
import type { MediaRecord } from '../records/record.ts';
import { parseUid } from '../uid.ts';
import {
  fileColumns,
  fileMetadata,
  keyReferences,
  type PreparedFile,
  storeDeduplicated,
  withPreparedFile,
} from './prepare.ts';

export interface UploadContext {
  db: Db;
  store: GeneratorStore & { delete(key: string): Promise<void> };
  settings: Pick<Settings, 'maxFileSizeBytes' | 'home' | 'taskTimeoutMinutes'>;
  /** When set, only this owner's records accept the upload (others look missing). */
  ownerId?: string;
  /** Replace a file the record already has (default: refuse with RECORD_HAS_FILE). */
  replace?: boolean;
  /** The client's Content-Type and file name, compared with the content and kept in the metadata. */
  declaredType?: string;
  fileName?: string;
  compress?: boolean;
  quality?: number;
  /** Per-call size cap; defaults to MAX_FILE_SIZE_MB. */
  maxSize?: number;
  signal?: AbortSignal;
}

export interface RecordUploadResult {
  record: MediaRecord;
  compressed: boolean;
  originalSize: number;
  /** The record whose object this upload shares (same owner, same content). */
  duplicateOf?: string;
}

/** Verifies and stores `body` as record `uid`'s file. @throws typed FileProcessingErrors; nothing changes on failure. */
export async function storeUpload(
  uid: string,
  body: ReadableStream<Uint8Array>,
  ctx: UploadContext,
): Promise<RecordUploadResult> {
  const recordUid = parseUid(uid);
  const before = await claimForUpload(recordUid, ctx);
  let stored: Awaited<ReturnType<typeof storeAndRecord>> | undefined;
  try {
    stored = await withPreparedFile(
      body,
      {
        home: ctx.settings.home,
        maxSize: ctx.maxSize ?? ctx.settings.maxFileSizeBytes,
        ...(ctx.declaredType ? { declaredType: ctx.declaredType } : {}),
        ...(ctx.fileName ? { url: `file:///${encodeURIComponent(ctx.fileName)}` } : {}),
        ...(ctx.compress === undefined ? {} : { compress: ctx.compress }),
        ...(ctx.quality === undefined ? {} : { quality: ctx.quality }),
      },
      (file) => storeAndRecord(file, before, ctx),
    );
  } catch (error) {
    await ctx.db
      .update(records)
      .set({ status: before.status, error: before.error, updatedAt: new Date() })
      .where(and(eq(records.uid, recordUid), eq(records.status, 'processing')));
    throw error;
  }
  // The replaced object goes once nothing points at it any more (dedupe may share it with other records).
  const oldKey = before.storageKey;
  if (oldKey && oldKey !== stored.record.storageKey && (await keyReferences(ctx.db, oldKey)) === 0) {
    await ctx.store.delete(oldKey).catch(() => {});
  }
  return stored;
}

async function claimForUpload(uid: string, ctx: UploadContext): Promise<MediaRecord> {
  const [before] = await ctx.db.select().from(records).where(eq(records.uid, uid));
  if (!before || (ctx.ownerId !== undefined && before.userId !== ctx.ownerId)) throw new RecordNotFoundError(uid);
  if (before.storageKey && !ctx.replace) {
    throw new FileProcessingError(
      `Record ${uid} already has a file (${before.storageKey}); upload with replace=true to replace it.`,
      'RECORD_HAS_FILE',
      { details: { uid, storageKey: before.storageKey } },
    );
  }
  const staleAfterSeconds = ctx.settings.taskTimeoutMinutes * 60;
  const claimed = await ctx.db
    .update(records)
    .set({ status: 'processing', updatedAt: new Date() })
    .where(
      and(
        eq(records.uid, uid),
        or(
          ne(records.status, 'processing'),
          lt(records.updatedAt, sql`now() - make_interval(secs => ${staleAfterSeconds}::double precision)`),
        ),
      ),
    )
    .returning({ uid: records.uid });
  if (claimed.length === 0) {
    throw new FileProcessingError(
      `Record ${uid} is being processed by another upload or generator; try again when it finishes.`,
      'RECORD_BUSY',
      { transient: true, details: { uid } },
    );
  }
  return before;
}

async function storeAndRecord(
  file: PreparedFile,
  before: MediaRecord,
  ctx: UploadContext,
): Promise<RecordUploadResult> {
  if (file.type.mediaType !== before.mediaType) {
    throw new FileProcessingError(
      `Record ${before.uid} is ${before.mediaType}, but the upload is ${file.type.mediaType} (${file.contentType}).`,
      'MEDIA_TYPE_MISMATCH',
      { details: { expected: before.mediaType, actual: file.type.mediaType, contentType: file.contentType } },
    );
  }
  const ownKey = `${file.type.mediaType}/${before.uid}${file.extension}`;
  // A replacement never overwrites the current object in place: until the row points at the new one, the old one
  // stays whole (and records sharing it through dedupe keep their bytes).
  const key =
    before.storageKey === ownKey
      ? `${file.type.mediaType}/${before.uid}.${file.sha256.slice(0, 12)}${file.extension}`
      : ownKey;
  const target = {
    db: ctx.db,
    store: ctx.store,
    uid: before.uid,
    userId: before.userId,
    generationId: before.generationId,
    source: 'upload' as const,
    key,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  };
  return storeDeduplicated(file, target, async (stored) => {
    const discard = async () => {
      if (!stored.duplicate && stored.storageKey !== before.storageKey) {
        await ctx.store.delete(stored.storageKey).catch(() => {});
      }
    };
    const [record] = await ctx.db
      .update(records)
      .set({
        ...fileColumns(file, stored),
        error: null,
        source: 'upload',
        sourceUrl: null,
        metadata: {
          ...before.metadata,
          ...fileMetadata(file, stored),
          ...(ctx.fileName ? { upload: { fileName: ctx.fileName } } : {}),
        },
        updatedAt: new Date(),
      })
      .where(and(eq(records.uid, before.uid), eq(records.status, 'processing')))
      .returning()
      .catch(async (error: unknown) => {
        await discard();
        throw error;
      });
    if (!record) {
      await discard();
      throw new FileProcessingError(
        `Record ${before.uid} was taken over while the upload was stored; nothing was changed.`,
        'RECORD_BUSY',
        { transient: true, details: { uid: before.uid } },
      );
    }
    return {
      record,
      compressed: file.compressed,
      originalSize: file.originalSize,
      ...(stored.duplicate ? { duplicateOf: stored.duplicate.uid } : {}),
    };
  });
}
