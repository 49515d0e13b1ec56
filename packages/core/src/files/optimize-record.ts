/**
 * Optimization: recompress a record's stored image through the one file pipeline (claim → prepare with compression
 * → store as a fresh write-once object → complete the record, dropping the old object's reference and its thumbnail's
 * → link a thumbnail of the new file, as uploads do). A result that is not smaller than the stored file changes
 * nothing.
 */
import type { Settings } from '../config/settings.ts';
import type { Db } from '../db/database.ts';
import { FileProcessingError } from '../errors.ts';
import type { Scope } from '../scope.ts';
import type { FileStore } from './file-store.ts';
import { withPreparedFile } from './prepare.ts';
import { claimRecord, releaseClaim } from './record-claims.ts';
import { storeFile } from './store-file.ts';
import { attachThumbnail, prepareThumbnail } from './thumbnail-object.ts';

export interface OptimizeContext {
  db: Db;
  store: FileStore;
  settings: Pick<Settings, 'home' | 'maxFileSizeBytes'> & Partial<Pick<Settings, 'quota'>>;
  /** Whose records may be optimized; others look missing. */
  scope: Scope;
  /** JPEG/WebP/AVIF quality of the recompression. Default 80. */
  quality?: number;
  /** A `processing` claim older than this is taken over (a re-run after a crash). */
  staleAfterMs: number;
  /** Make a thumbnail of the new file (THUMBNAILS); without it the old one is dropped, as it shows other bytes. */
  thumbnails?: boolean;
  signal?: AbortSignal;
}

export interface OptimizeResult {
  recordUid: string;
  /** optimized: a smaller file replaced the stored one; unchanged: it was not smaller; skipped: not an image file. */
  outcome: 'optimized' | 'unchanged' | 'skipped';
  sizeBefore: number;
  sizeAfter: number;
  bytesSaved: number;
  storageKey: string | null;
  sha256: string | null;
}

/** Recompresses record `uid`'s image. @throws RECORD_NOT_FOUND, RECORD_BUSY, FILE_NOT_FOUND, storage errors */
export async function optimizeRecord(uid: string, ctx: OptimizeContext): Promise<OptimizeResult> {
  const claimed = await claimRecord(ctx.db, uid, {
    scope: ctx.scope,
    ifHasFile: 'replace',
    staleAfterMs: ctx.staleAfterMs,
  });
  const claim = claimed.claim;
  if (!claim) throw new Error('unreachable: replace never skips');
  const before = claim.before;
  const quality = ctx.quality ?? 80;
  const unchanged = (outcome: 'unchanged' | 'skipped'): OptimizeResult => ({
    recordUid: uid,
    outcome,
    sizeBefore: before.fileSize ?? 0,
    sizeAfter: before.fileSize ?? 0,
    bytesSaved: 0,
    storageKey: before.storageKey,
    sha256: before.sha256,
  });
  try {
    if (before.mediaType !== 'image' || !before.storageKey) {
      await releaseClaim(ctx.db, claim, { outcome: 'restore' });
      return unchanged('skipped');
    }
    // Recompressing what was already optimized at this quality (or lower) only loses detail for a few bytes.
    const done = (before.metadata?.optimized ?? {}) as { quality?: number };
    if (typeof done.quality === 'number' && done.quality <= quality) {
      await releaseClaim(ctx.db, claim, { outcome: 'restore' });
      return unchanged('unchanged');
    }
    const object = await ctx.store.get(before.storageKey);
    if (!object) {
      throw new FileProcessingError(
        `Record ${uid}'s object ${before.storageKey} is missing from the store.`,
        'FILE_NOT_FOUND',
        {
          details: { uid, key: before.storageKey },
        },
      );
    }
    const sizeBefore = before.fileSize ?? 0;
    return await withPreparedFile(
      object.body,
      { home: ctx.settings.home, maxSize: ctx.settings.maxFileSizeBytes, compress: true, quality },
      async (file) => {
        if (!file.compressed || file.size >= sizeBefore) {
          await releaseClaim(ctx.db, claim, { outcome: 'restore' });
          return unchanged('unchanged');
        }
        const previous = before.metadata ?? {};
        const provenance = {
          source: before.source ?? ('upload' as const),
          sourceUrl: before.sourceUrl,
          // The same picture under the name it came with: a new file of the record's, not a new upload.
          originalName: before.originalName ?? undefined,
          metadata: {
            // The first original stays the original; this step is recorded beside it.
            ...(previous.original ? { original: previous.original } : {}),
            optimized: { from: sizeBefore, to: file.size, quality, at: new Date().toISOString() },
          },
        };
        const made = ctx.thumbnails ? await prepareThumbnail(file, before.userId) : undefined;
        const stored = await storeFile(file, { claim }, provenance, {
          db: ctx.db,
          store: ctx.store,
          ...(ctx.signal ? { signal: ctx.signal } : {}),
        });
        if (made && stored.record) await attachThumbnail(ctx, stored.record, made);
        return {
          recordUid: uid,
          outcome: 'optimized',
          sizeBefore,
          sizeAfter: file.size,
          bytesSaved: sizeBefore - file.size,
          storageKey: stored.object.storageKey,
          sha256: file.sha256,
        };
      },
    );
  } catch (error) {
    await releaseClaim(ctx.db, claim, { outcome: 'restore' }).catch(() => {});
    throw error;
  }
}
