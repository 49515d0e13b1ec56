/**
 * Uploads (the API's `POST /v1/records/{uid}/file`): a client's stream becomes an existing record's file through
 * the one file pipeline: claim the record, prepare, dedupe, store, complete. On any failure the record returns to
 * the state it had, and no object is left behind.
 */
import type { Settings } from '../config/settings.ts';
import type { Db } from '../db/database.ts';
import type { FileStore } from '../files/file-store.ts';
import { sanitizeOriginalName } from '../files/original-name.ts';
import { withPreparedFile } from '../files/prepare.ts';
import { claimRecord, releaseClaim } from '../files/record-claims.ts';
import { sizeCap } from '../files/size-cap.ts';
import { storeFile } from '../files/store-file.ts';
import { attachThumbnail, prepareThumbnail, type ThumbnailOutcome } from '../files/thumbnail-object.ts';
import type { AllowedTypes } from '../files/type-filter.ts';
import type { MediaRecord } from '../records/record.ts';
import { type Scope, scopeUser } from '../scope.ts';
import { parseUid } from '../uid.ts';

export interface UploadContext {
  db: Db;
  store: FileStore;
  settings: Pick<Settings, 'maxFileSizeBytes' | 'home' | 'taskTimeoutMinutes'> & Partial<Pick<Settings, 'quota'>>;
  /** Whose records accept the upload; others look missing. */
  scope: Scope;
  /** Replace a file the record already has (default: refuse with RECORD_HAS_FILE). */
  replace?: boolean;
  /** The client's Content-Type and file name, compared with the content and kept in the metadata. */
  declaredType?: string;
  fileName?: string;
  compress?: boolean;
  quality?: number;
  /** Per-call size cap; may only lower MAX_FILE_SIZE_MB. */
  maxSize?: number;
  /** Only these types are stored; others fail FILE_TYPE_NOT_ALLOWED and the record is left exactly as it was. */
  allowedTypes?: AllowedTypes;
  /** Make a thumbnail of a stored image or video (THUMBNAILS; `serve` turns it on). */
  thumbnails?: boolean;
  signal?: AbortSignal;
  /**
   * The body's chunks are this upload's alone (a request body, a file's stream): each is freed as soon as it is
   * written instead of by a forced collection (decision 0049). Leave it unset for a stream over bytes you still hold:
   * a freed chunk reads as empty.
   */
  ownsChunks?: boolean;
}

export interface RecordUploadResult {
  record: MediaRecord;
  compressed: boolean;
  originalSize: number;
  /** The record whose object this upload shares (same owner, same content). */
  duplicateOf?: string;
  /** What became of the thumbnail, when thumbnails are on. */
  thumbnail?: ThumbnailOutcome;
}

/** Verifies and stores `body` as record `uid`'s file. @throws typed FileProcessingErrors; nothing changes on failure. */
export async function storeUpload(
  uid: string,
  body: ReadableStream<Uint8Array>,
  ctx: UploadContext,
): Promise<RecordUploadResult> {
  const { claim } = await claimRecord(ctx.db, parseUid(uid), {
    scope: ctx.scope,
    ifHasFile: ctx.replace ? 'replace' : 'refuse',
    staleAfterMs: ctx.settings.taskTimeoutMinutes * 60_000,
  });
  if (!claim) throw new Error('unreachable: uploads never skip');
  try {
    return await withPreparedFile(
      body,
      {
        home: ctx.settings.home,
        maxSize: sizeCap(ctx.settings.maxFileSizeBytes, ctx.maxSize),
        ...(ctx.declaredType ? { declaredType: ctx.declaredType } : {}),
        ...(ctx.fileName ? { url: `file:///${encodeURIComponent(ctx.fileName)}` } : {}),
        ...(ctx.compress === undefined ? {} : { compress: ctx.compress }),
        ...(ctx.quality === undefined ? {} : { quality: ctx.quality }),
        ...(ctx.allowedTypes ? { allowedTypes: ctx.allowedTypes } : {}),
        ...(ctx.scope.all ? {} : { owner: scopeUser(ctx.scope) as string }),
        // As for URL ingest: the local disk's writeback overlaps the upload.
        ...(ctx.store.putFileAdopts ? { syncWhileSpooling: true } : {}),
        ...(ctx.ownsChunks ? { ownsChunks: true } : {}),
      },
      async (file) => {
        const provenance = { source: 'upload' as const, originalName: sanitizeOriginalName(ctx.fileName) };
        const made = ctx.thumbnails ? await prepareThumbnail(file, scopeUser(ctx.scope)) : undefined;
        const stored = await storeFile(file, { claim }, provenance, ctx);
        const thumbnail = made ? await attachThumbnail(ctx, stored.record as MediaRecord, made) : undefined;
        return {
          // With its thumbnail when one was linked, so the answer shows it.
          record: thumbnail?.status === 'stored' ? thumbnail.record : (stored.record as MediaRecord),
          ...(thumbnail ? { thumbnail } : {}),
          compressed: file.compressed,
          originalSize: file.originalSize,
          ...(stored.object.duplicateOf ? { duplicateOf: stored.object.duplicateOf } : {}),
        };
      },
    );
  } catch (error) {
    await releaseClaim(ctx.db, claim, { outcome: 'restore' }).catch(() => {});
    throw error;
  }
}
