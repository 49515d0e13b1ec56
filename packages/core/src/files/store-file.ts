/**
 * The pipeline after prepare, the same for every source: dedupe → store → complete the record. A file is stored under
 * a key reserved in `objects` (never written before), and the record is pointed at it in one transaction that also
 * counts the reference and drops the record's previous one and its thumbnail's; bytes nothing refers to any more are
 * removed after that transaction commits. On any failure the record is as it was and the object written for it is
 * retired.
 */
import type { UserQuotaSettings } from '../config/settings.ts';
import type { Db } from '../db/database.ts';
import { recordsLock, withOwnerGates } from '../db/owner-gates.ts';
import { FileProcessingError } from '../errors.ts';
import type { MediaRecord } from '../records/record.ts';
import { withDeadlockRetry } from '../retry/rerun.ts';
import { crashPoint } from './crash-points.ts';
import type { FileStore } from './file-store.ts';
import { sha256OfStream } from './file-store.ts';
import {
  type CommitOutcome,
  commitNewRecordBatched,
  findReusableObjectsBatched,
  reserveObjectKeyBatched,
} from './object-batches.ts';
import {
  addObjectReference,
  dropObjectReference,
  lockObjects,
  markObjectStored,
  type ObjectRow,
  removeRetiredBytes,
  reserveObjectKey,
  retireUnreferenced,
} from './objects.ts';
import type { PreparedFile } from './prepare.ts';
import { reserveWithinQuota } from './quota-reservations.ts';
import { type Claim, claimLost } from './record-claims.ts';
import {
  completeClaimedRecord,
  dropThumbnailColumn,
  type FileProvenance,
  insertRecordWithFile,
  type NewFileRecord,
  type StoredObject,
} from './record-file.ts';
import { checkRecordQuota } from './user-quota.ts';

export interface StoreFileContext {
  db: Db;
  store: FileStore;
  signal?: AbortSignal;
  /** The per-user quotas to enforce before writing (see `user-quota.ts`); without it none is checked. */
  settings?: { quota?: UserQuotaSettings };
}

/** Where the file goes: an existing record this caller has claimed, or a new record (URL ingest). */
export type FileTarget = { claim: Claim; create?: never } | { claim?: never; create: NewFileRecord };

export interface StoredFile {
  /** `undefined` only for `create` when a record with that uid already existed (nothing was changed). */
  record: MediaRecord | undefined;
  object: StoredObject;
  /** Whether the bytes were written now, found stored earlier for this record, or shared with another record. */
  origin: 'written' | 'leftover' | 'shared';
}

/** Stores a prepared file for its record. @throws CLAIM_LOST, MEDIA_TYPE_MISMATCH, storage and database errors */
export async function storeFile(
  file: PreparedFile,
  target: FileTarget,
  provenance: FileProvenance,
  ctx: StoreFileContext,
): Promise<StoredFile> {
  const record = target.claim?.before;
  if (record && record.mediaType !== file.type.mediaType) {
    throw new FileProcessingError(
      `Record ${record.uid} is ${record.mediaType}, but the file is ${file.type.mediaType} (${file.contentType}).`,
      'MEDIA_TYPE_MISMATCH',
      { details: { expected: record.mediaType, actual: file.type.mediaType, contentType: file.contentType } },
    );
  }
  const uid = target.claim?.uid ?? (target.create?.uid as string);
  const ownerId = record ? record.userId : (target.create?.userId ?? null);
  return withKeyLock(`${ownerId ?? ''}:${file.sha256}`, async () => {
    // An object this record already stored but never recorded, or one the owner has with the same bytes.
    const found = await findReusableObjectsBatched(ctx.db, ownerId, uid, file.sha256);
    const leftover = await intactLeftover(ctx, found.leftovers, file.sha256);
    const reusable = leftover ?? found.shared;
    if (reusable) {
      const done = await commit(file, target, provenance, ctx, leftover ? 'leftover' : 'shared', {
        storageKey: reusable.key,
        objectUrl: ctx.store.objectUrl(reusable.key),
        ...(reusable.recordUid && reusable.recordUid !== uid ? { duplicateOf: reusable.recordUid } : {}),
      });
      // The shared object was retired between the lookup and the commit: store a copy of our own instead.
      if (done) return done;
    }
    const object = {
      mediaType: file.type.mediaType,
      uid,
      extension: file.extension,
      sha256: file.sha256,
      size: file.size,
      contentType: file.contentType,
      ownerId,
    };
    const key = await reserveWithinQuota(ctx, object, reserveObjectKeyBatched, target.create !== undefined);
    crashPoint('after-reserve');
    try {
      const put = await putBytes(file, key, uid, ownerId, provenance, ctx);
      crashPoint('after-put');
      const done = await commit(file, target, provenance, ctx, 'written', { storageKey: key, objectUrl: put.url });
      if (!done) {
        // Only the sweep retires a reservation, and only one older than any claim may live: this run took too long.
        throw new FileProcessingError(
          `The object for record ${uid} was swept before it could be recorded; nothing was changed. Try again.`,
          'CLAIM_LOST',
          { transient: true, details: { uid } },
        );
      }
      if (!done.record) await discard(ctx, key);
      return done;
    } catch (error) {
      await discard(ctx, key).catch(() => {});
      throw error;
    }
  });
}

/**
 * One transaction: reference the object, write the record, drop the record's previous object. Returns `undefined`
 * when the object can no longer be referenced; `record` is `undefined` when a new record's uid already existed.
 * A new record commits together with the other new records committing at the same time (object-batches.ts).
 */
async function commit(
  file: PreparedFile,
  target: FileTarget,
  provenance: FileProvenance,
  ctx: StoreFileContext,
  origin: StoredFile['origin'],
  stored: StoredObject,
): Promise<StoredFile | undefined> {
  let retired: string[] = [];
  const quota = ctx.settings?.quota;
  const alone = async (): Promise<CommitOutcome> => {
    const result = await commitAlone(file, target, provenance, ctx.db, stored, quota);
    retired = result.retired;
    return result.outcome;
  };
  const outcome = target.create
    ? await commitNewRecordBatched(ctx.db, {
        target: target.create,
        file,
        stored,
        provenance,
        fresh: origin === 'written',
        ...(quota ? { quota } : {}),
        alone,
      })
    : await alone();
  if ('gone' in outcome) return undefined;
  crashPoint('after-commit');
  if (retired.length > 0) await removeRetiredBytes(ctx.db, ctx.store, retired).catch(() => {});
  return { record: outcome.record, object: stored, origin };
}

/**
 * `commit` for one file in its own transaction; `retired` are the objects it gave up for good: the previous file's,
 * and the previous file's thumbnail, which shows other bytes (the thumbnail step links one of the new file, when
 * thumbnails are on and one can be made).
 */
async function commitAlone(
  file: PreparedFile,
  target: FileTarget,
  provenance: FileProvenance,
  db: Db,
  stored: StoredObject,
  quota?: UserQuotaSettings,
): Promise<{ outcome: CommitOutcome; retired: string[] }> {
  const previousKey = target.claim?.before.storageKey ?? null;
  const sameObject = previousKey === stored.storageKey;
  let retired: string[] = [];
  const owner = target.create?.userId;
  // The record cap's per-user lock: this process's commits for one user take turns before they take a connection.
  const gates = quota && quota.maxRecords > 0 && owner ? [recordsLock(owner)] : [];
  const outcome = await withOwnerGates(db, gates, () =>
    withDeadlockRetry(() =>
      db.transaction(async (transaction) => {
        retired = [];
        const tx = transaction as unknown as Db;
        // A new record counts against its owner's record cap, checked under the owner's lock until this commit ends.
        if (quota && owner) await checkRecordQuota(tx, quota, new Map([[owner, 1]]));
        await lockObjects(tx, previousKey && !sameObject ? [stored.storageKey, previousKey] : [stored.storageKey]);
        // Both statements are sent at once (one round trip on a pipelining driver); when the object turned out to be
        // retiring, throwing rolls the record write back.
        const [referenced, written] = await Promise.allSettled([
          sameObject || addObjectReference(tx, stored.storageKey),
          target.claim
            ? completeClaimedRecord(tx, target.claim, file, stored, provenance)
            : insertRecordWithFile(tx, target.create, file, stored, provenance),
        ]);
        if (referenced.status === 'rejected') throw referenced.reason;
        if (!referenced.value) throw new ObjectGone();
        if (written.status === 'rejected') throw written.reason;
        const record = written.value;
        if (!record) {
          if (target.claim) throw claimLost(target.claim.uid);
          // A new record's uid is taken (the same queue item ran twice): change nothing.
          throw new ExistingRecord();
        }
        if (previousKey && !sameObject && (await dropObjectReference(tx, previousKey))) retired.push(previousKey);
        // The thumbnail key as the record has it now (a thumbnail step may have linked one since the claim was taken).
        const thumbnail = target.claim ? record.thumbnailKey : null;
        if (!thumbnail) return { record } as CommitOutcome;
        await dropThumbnailColumn(tx, record.uid);
        if (await dropObjectReference(tx, thumbnail)) retired.push(thumbnail);
        return { record: { ...record, thumbnailKey: null } } as CommitOutcome;
      }),
    ),
  ).catch((error: unknown): CommitOutcome => {
    if (error instanceof ExistingRecord) return { record: undefined };
    if (error instanceof ObjectGone) return { gone: true };
    throw error;
  });
  return { outcome, retired };
}

class ExistingRecord extends Error {}
class ObjectGone extends Error {}

/**
 * Stores a prepared file without touching any record (the seed's `update_record=False`): the object is kept,
 * unreferenced, and a later run for the same record with the same bytes uses it instead of writing again.
 */
export async function storeObjectOnly(
  file: PreparedFile,
  record: { uid: string; userId: string | null },
  provenance: FileProvenance,
  ctx: StoreFileContext,
): Promise<StoredObject> {
  const key = await reserveWithinQuota(
    ctx,
    {
      mediaType: file.type.mediaType,
      uid: record.uid,
      extension: file.extension,
      sha256: file.sha256,
      size: file.size,
      contentType: file.contentType,
      ownerId: record.userId,
    },
    reserveObjectKey,
  );
  try {
    const put = await putBytes(file, key, record.uid, record.userId, provenance, ctx);
    await markObjectStored(ctx.db, key);
    return { storageKey: key, objectUrl: put.url };
  } catch (error) {
    await discard(ctx, key).catch(() => {});
    throw error;
  }
}

/** Writes the file's bytes under `key`, with provenance metadata on the object. */
function putBytes(
  file: PreparedFile,
  key: string,
  uid: string,
  ownerId: string | null,
  provenance: FileProvenance,
  ctx: StoreFileContext,
) {
  const options = {
    contentType: file.contentType,
    metadata: {
      record_uid: uid,
      media_type: file.type.mediaType,
      source: provenance.source,
      sha256: file.sha256,
      ...(ownerId ? { user_id: ownerId } : {}),
      ...(provenance.source === 'generated' ? { generated: 'true', generated_at: new Date().toISOString() } : {}),
      ...provenance.objectMetadata,
    },
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  };
  // A store that can take the spool over (the local disk: a rename) spares the bytes a second trip through
  // JavaScript; the others stream it.
  const { spool } = file;
  if (!spool || !ctx.store.putFile) return ctx.store.put(key, file.body(), options);
  return ctx.store.putFile(key, spool.path, { ...options, size: file.size, sha256: file.sha256 }).then((result) => {
    spool.taken = true;
    return result;
  });
}

/** Retires an object written for a file that was not recorded, and removes its bytes. */
async function discard(ctx: StoreFileContext, key: string): Promise<void> {
  if (await retireUnreferenced(ctx.db, key)) await removeRetiredBytes(ctx.db, ctx.store, [key]);
}

/**
 * A complete object this record stored earlier without recording it (a crash between store and record, or the
 * generator's `updateRecord: false`), re-hashed so damaged bytes are never trusted; damaged ones are retired.
 */
async function intactLeftover(
  ctx: StoreFileContext,
  candidates: readonly ObjectRow[],
  sha256: string,
): Promise<ObjectRow | undefined> {
  for (const candidate of candidates) {
    const object = await ctx.store.get(candidate.key);
    if (object && (await sha256OfStream(object.body)) === sha256) return candidate;
    await discard(ctx, candidate.key);
  }
  return undefined;
}

const keyLocks = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` after every earlier call with the same key has finished (an in-process mutex per owner and content), so
 * concurrent copies of one file in this process share one object instead of each storing their own.
 */
async function withKeyLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = keyLocks.get(key) ?? Promise.resolve();
  const run = previous.catch(() => {}).then(fn);
  keyLocks.set(key, run);
  try {
    return await run;
  } finally {
    if (keyLocks.get(key) === run) keyLocks.delete(key);
  }
}
