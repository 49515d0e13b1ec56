/**
 * A record's thumbnail as an object of its own: made from the prepared file before it is stored (a store may take
 * the spool over), written
 * once under a fresh `thumbnails/` key reserved in `objects`, and linked to the record in one transaction that also
 * drops the previous thumbnail's reference. The record must still have the file the thumbnail was made from, or
 * nothing is linked. Failures are reported in the result, never thrown: a thumbnail never fails its file.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { UserQuotaSettings } from '../config/settings.ts';
import type { Db } from '../db/database.ts';
import { records } from '../db/schema.ts';
import { FileProcessingError } from '../errors.ts';
import { makeThumbnail, type ThumbnailSource } from '../media/thumbnail/make-thumbnail.ts';
import { largestVideoFrame } from '../media/validate/media-info.ts';
import type { MediaRecord } from '../records/record.ts';
import { withDeadlockRetry } from '../retry/rerun.ts';
import type { FileStore } from './file-store.ts';
import { sha256Hex } from './file-store.ts';
import {
  addObjectReference,
  dropObjectReference,
  lockObjects,
  removeRetiredBytes,
  reserveObjectKey,
  retireUnreferenced,
} from './objects.ts';
import type { PreparedFile } from './prepare.ts';
import { reserveWithinQuota } from './quota-reservations.ts';

export type ThumbnailOutcome =
  | {
      status: 'stored';
      key: string;
      width: number;
      height: number;
      size: number;
      /** The record as it is with its thumbnail linked. */
      record: MediaRecord;
    }
  | { status: 'skipped' | 'failed'; reason: string };

/** What the record's metadata says about its thumbnail (`metadata.thumbnail`). */
export interface ThumbnailMetadata {
  key: string;
  width: number;
  height: number;
  size: number;
  /** The sha256 of the file it shows: a thumbnail whose file was replaced since is not served. */
  sourceSha256: string;
}

/** A thumbnail made from a prepared file, before the file is stored (a store may take its spool over). */
export type PreparedThumbnail =
  | { ok: true; data: Uint8Array; width: number; height: number; sourceSha256: string }
  | { ok: false; outcome: ThumbnailOutcome };

/**
 * Makes the thumbnail of `file` (images and videos); run before the file is stored. `owner` (the record's user) takes
 * its turn in the decode slots' round-robin.
 */
export async function prepareThumbnail(file: PreparedFile, owner?: string | null): Promise<PreparedThumbnail> {
  const source = thumbnailSource(file);
  if (!source)
    return { ok: false, outcome: { status: 'skipped', reason: `${file.type.mediaType} files have no thumbnail` } };
  const made = await makeThumbnail(source, owner ? { owner } : {});
  if (!made.ok) return { ok: false, outcome: { status: made.skipped ? 'skipped' : 'failed', reason: made.reason } };
  return { ...made, sourceSha256: file.sha256 };
}

/**
 * Stores a prepared thumbnail and links it to the record, which must still have the file it was made from. A
 * thumbnail counts towards its owner's storage quota like any object: one that would pass it is skipped, not written.
 */
export async function attachThumbnail(
  ctx: { db: Db; store: FileStore; settings?: { quota?: UserQuotaSettings } },
  record: { uid: string; userId: string | null; storageKey: string | null },
  made: PreparedThumbnail,
): Promise<ThumbnailOutcome> {
  if (!made.ok) return made.outcome;
  let key: string | undefined;
  const sha256 = sha256Hex(made.data);
  const object = {
    mediaType: 'thumbnail' as const,
    uid: record.uid,
    extension: '.webp',
    sha256,
    size: made.data.byteLength,
    contentType: 'image/webp',
    ownerId: record.userId,
  };
  try {
    key = await reserveWithinQuota(ctx, object, reserveObjectKey);
  } catch (error) {
    // Past the owner's quota, the thumbnail is skipped; any other failure to reserve, failed (as before).
    const overQuota = error instanceof FileProcessingError && error.code === 'QUOTA_EXCEEDED';
    return { status: overQuota ? 'skipped' : 'failed', reason: error instanceof Error ? error.message : String(error) };
  }
  try {
    await ctx.store.put(key, made.data, {
      contentType: 'image/webp',
      metadata: { record_uid: record.uid, kind: 'thumbnail', sha256, source_sha256: made.sourceSha256 },
    });
    const meta: ThumbnailMetadata = {
      key,
      width: made.width,
      height: made.height,
      size: made.data.byteLength,
      sourceSha256: made.sourceSha256,
    };
    const linked = await link(ctx.db, record, key, meta);
    if (!linked.record) throw new Error('the record changed while its thumbnail was made');
    if (linked.retired) await removeRetiredBytes(ctx.db, ctx.store, [linked.retired]).catch(() => {});
    const { width, height } = made;
    return { status: 'stored', key, width, height, size: made.data.byteLength, record: linked.record };
  } catch (error) {
    if (key && (await retireUnreferenced(ctx.db, key).catch(() => false))) {
      await removeRetiredBytes(ctx.db, ctx.store, [key]).catch(() => {});
    }
    return { status: 'failed', reason: error instanceof Error ? error.message : String(error) };
  }
}

/** The key of the record's thumbnail when it shows the record's current file (not a replaced one). */
export function currentThumbnailKey(record: {
  thumbnailKey: string | null;
  sha256: string | null;
  metadata: Record<string, unknown>;
}): string | undefined {
  const meta = record.metadata.thumbnail as Partial<ThumbnailMetadata> | undefined;
  return record.thumbnailKey && meta?.key === record.thumbnailKey && meta.sourceSha256 === record.sha256
    ? record.thumbnailKey
    : undefined;
}

function thumbnailSource(file: PreparedFile): ThumbnailSource | undefined {
  if (file.type.mediaType === 'image') {
    const body = file.body();
    return body instanceof Uint8Array ? { mediaType: 'image', bytes: body } : undefined;
  }
  if (file.type.mediaType === 'video' && file.spool) {
    const frame = largestVideoFrame(file.details);
    return { mediaType: 'video', path: file.spool.path, ...(frame ? { frame } : {}) };
  }
  return undefined;
}

async function link(
  db: Db,
  record: { uid: string; storageKey: string | null },
  key: string,
  meta: ThumbnailMetadata,
): Promise<{ record?: MediaRecord; retired?: string }> {
  return withDeadlockRetry(() =>
    db.transaction(async (tx) => {
      const t = tx as unknown as Db;
      const [current] = await t
        .select({ thumbnailKey: records.thumbnailKey })
        .from(records)
        .where(and(eq(records.uid, record.uid), eq(records.storageKey, record.storageKey ?? '')))
        .for('update');
      if (!current) return {};
      const previous = current.thumbnailKey;
      await lockObjects(t, previous ? [key, previous] : [key]);
      if (!(await addObjectReference(t, key))) return {};
      const [linked] = await t
        .update(records)
        .set({
          thumbnailKey: key,
          metadata: sql`jsonb_set(${records.metadata}, '{thumbnail}', ${JSON.stringify(meta)}::jsonb)`,
        })
        .where(eq(records.uid, record.uid))
        .returning();
      const retired = previous && (await dropObjectReference(t, previous)) ? previous : undefined;
      return retired ? { record: linked, retired } : { record: linked };
    }),
  );
}
