/**
 * The record's file columns: the one place that says what a stored file sets on its record, and the statements that
 * set them (completing a claimed record, or inserting a new one for a URL) or unlink the previous file's thumbnail.
 */
import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { type RecordSource, records } from '../db/schema.ts';
import type { MediaRecord } from '../records/record.ts';
import { mediaColumns } from './media-columns.ts';
import { keyFileName } from './object-keys.ts';
import type { PreparedFile } from './prepare.ts';
import type { Claim } from './record-claims.ts';

export interface StoredObject {
  storageKey: string;
  objectUrl: string;
  /** The record the object was first written for, when this file shares an object stored earlier. */
  duplicateOf?: string;
}

/** What the file's source adds to the record. */
export interface FileProvenance {
  source: RecordSource;
  /** For URLs: where the bytes came from, without credentials or query (signed-URL tokens are not kept). */
  sourceUrl?: string | null;
  /** Extra metadata for the record's free-form `metadata`. */
  metadata?: Record<string, unknown>;
  /** The file's name as the source gave it, already sanitised (see original-name.ts). */
  originalName?: string | undefined;
  /** Extra metadata on the stored object itself (strings, as object stores keep them). */
  objectMetadata?: Record<string, string>;
}

/** The record columns a stored file sets. */
export function fileColumns(file: PreparedFile, stored: StoredObject, provenance: FileProvenance) {
  return {
    status: 'uploaded' as const,
    fileUrl: stored.objectUrl,
    fileName: keyFileName(stored.storageKey),
    fileSize: file.size,
    contentType: file.contentType,
    sha256: file.sha256,
    storageKey: stored.storageKey,
    source: provenance.source,
    sourceUrl: provenance.sourceUrl ?? null,
    originalName: provenance.originalName ?? null,
    ...mediaColumns(file.details),
    error: null,
    claimToken: null,
  };
}

/** The metadata a stored file gives its record, on top of what the record had (minus the previous file's facts). */
export function fileMetadata(
  file: PreparedFile,
  stored: StoredObject,
  provenance: FileProvenance,
  previous: Record<string, unknown> = {},
): Record<string, unknown> {
  // The previous file's thumbnail describes other bytes: it goes with them (the thumbnail step adds the new one).
  const { duplicate_of: _d, mismatch: _m, media: _media, original: _o, upload: _u, thumbnail: _t, ...kept } = previous;
  return {
    ...kept,
    original: { size: file.originalSize, sha256: file.originalSha256, contentType: file.type.mime },
    ...(file.mismatch ? { mismatch: file.mismatch } : {}),
    ...(stored.duplicateOf ? { duplicate_of: stored.duplicateOf } : {}),
    ...provenance.metadata,
  };
}

/** Sets the file on a claimed record; `undefined` when the claim was lost (taken over, or the record deleted). */
export async function completeClaimedRecord(
  db: Db,
  claim: Claim,
  file: PreparedFile,
  stored: StoredObject,
  provenance: FileProvenance,
): Promise<MediaRecord | undefined> {
  const [record] = await db
    .update(records)
    .set({
      ...fileColumns(file, stored, provenance),
      metadata: fileMetadata(file, stored, provenance, claim.before.metadata),
      updatedAt: new Date(),
    })
    .where(and(eq(records.uid, claim.uid), eq(records.claimToken, claim.token)))
    .returning();
  return record;
}

/**
 * Unlinks the record's thumbnail: run in the transaction that gives the record a new file, which also drops the
 * thumbnail object's reference (its `metadata.thumbnail` goes with the previous file's facts, see `fileMetadata`).
 */
export async function dropThumbnailColumn(db: Db, uid: string): Promise<void> {
  await db.update(records).set({ thumbnailKey: null }).where(eq(records.uid, uid));
}

export interface NewFileRecord {
  uid: string;
  userId: string | null;
  generationId: string | null;
}

/** Inserts a new record with its file; `undefined` when a record with that uid exists already. */
export async function insertRecordWithFile(
  db: Db,
  target: NewFileRecord,
  file: PreparedFile,
  stored: StoredObject,
  provenance: FileProvenance,
): Promise<MediaRecord | undefined> {
  const [record] = await db
    .insert(records)
    .values(newRecordRow(target, file, stored, provenance))
    .onConflictDoNothing({ target: records.uid })
    .returning();
  return record;
}

/** The row of a new record with its file. */
export function newRecordRow(
  target: NewFileRecord,
  file: PreparedFile,
  stored: StoredObject,
  provenance: FileProvenance,
) {
  return {
    uid: target.uid,
    mediaType: file.type.mediaType,
    userId: target.userId,
    generationId: target.generationId,
    ...fileColumns(file, stored, provenance),
    metadata: fileMetadata(file, stored, provenance),
  };
}
