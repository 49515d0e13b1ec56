/**
 * The per-file statements of `storeFile`, sent for many files at once (group commit, see batcher.ts): the reuse
 * lookup, the key reservation and a new record's commit. Each batched form has exactly the single form's outcome for
 * every file; a batch that cannot be sent whole (a statement fails, two files name one key or uid) is run file by
 * file with the single forms, so a bad file gets its own typed error and its neighbours are stored as usual.
 */
import { and, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import type { UserQuotaSettings } from '../config/settings.ts';
import type { Db } from '../db/database.ts';
import { recordsLock, withOwnerGates } from '../db/owner-gates.ts';
import { objects, records } from '../db/schema.ts';
import type { MediaRecord } from '../records/record.ts';
import { withDeadlockRetry } from '../retry/rerun.ts';
import { createBatcher, perDatabase, type Settled, settleEach } from './batcher.ts';
import { canonicalKey } from './object-keys.ts';
import {
  findReusableObjects,
  lockObjects,
  type NewObject,
  type ObjectRow,
  objectColumns,
  objectRow,
  reserveObjectKey,
  reusableCondition,
} from './objects.ts';
import type { PreparedFile } from './prepare.ts';
import { type FileProvenance, type NewFileRecord, newRecordRow, type StoredObject } from './record-file.ts';
import { checkRecordQuota } from './user-quota.ts';

type Reusable = Awaited<ReturnType<typeof findReusableObjects>>;

interface Lookup {
  ownerId: string | null;
  recordUid: string;
  sha256: string;
}

const lookups = perDatabase((db: Db) =>
  createBatcher<Lookup, Reusable>(async (items) => {
    if (items.length === 1) {
      const [item] = items as [Lookup];
      return settleEach(items, () => findReusableObjects(db, item.ownerId, item.recordUid, item.sha256));
    }
    const owned = items.filter((item) => item.ownerId !== null);
    const unowned = items.filter((item) => item.ownerId === null);
    const rows = await db
      .select({ ...objectColumns, refs: objects.refs })
      .from(objects)
      .where(
        and(
          or(
            owned.length > 0
              ? and(
                  inArray(objects.ownerId, [...new Set(owned.map((item) => item.ownerId as string))]),
                  inArray(objects.sha256, [...new Set(owned.map((item) => item.sha256))]),
                )
              : undefined,
            unowned.length > 0
              ? and(isNull(objects.ownerId), inArray(objects.sha256, [...new Set(unowned.map((item) => item.sha256))]))
              : undefined,
          ),
          reusableCondition(items.map((item) => item.recordUid)),
        ),
      );
    // Each file's share of the rows, as its own lookup would have found them.
    return items.map((item): Settled<Reusable> => {
      const leftovers: ObjectRow[] = [];
      let shared: ObjectRow | undefined;
      for (const { refs, ...row } of rows) {
        if (row.ownerId !== item.ownerId || row.sha256 !== item.sha256) continue;
        if (refs > 0) shared ??= row;
        else if (row.recordUid === item.recordUid) leftovers.push(row);
      }
      return { ok: true, value: { leftovers, shared } };
    });
  }),
);

/** `findReusableObjects`, batched with the other files looking at the same time. */
export function findReusableObjectsBatched(db: Db, ownerId: string | null, recordUid: string, sha256: string) {
  return lookups(db)({ ownerId, recordUid, sha256 });
}

/**
 * Reserves a key for each object, as `reserveObjectKey` would one by one: the canonical keys of all of them in one
 * insert, then on its own each object whose canonical key was taken (used before, a thumbnail, or named twice).
 */
export async function reserveObjectKeys(db: Db, items: readonly NewObject[]): Promise<Settled<string>[]> {
  const canonical = items.map((item) =>
    item.mediaType === 'thumbnail' ? undefined : canonicalKey(item.mediaType, item.uid, item.extension),
  );
  const first = new Map<string, number>();
  canonical.forEach((key, index) => {
    if (key !== undefined && !first.has(key)) first.set(key, index);
  });
  const batched = [...first.values()];
  const taken = new Set<string>();
  if (batched.length > 1) {
    const rows = await db
      .insert(objects)
      .values(batched.map((index) => objectRow(items[index] as NewObject, canonical[index] as string)))
      .onConflictDoNothing({ target: objects.key })
      .returning({ key: objects.key });
    for (const row of rows) taken.add(row.key);
  }
  return settleEach(items, async (item, index) => {
    const key = canonical[index];
    if (key !== undefined && first.get(key) === index && taken.has(key)) return key;
    return reserveObjectKey(db, item);
  });
}

const reservations = perDatabase((db: Db) => createBatcher<NewObject, string>((items) => reserveObjectKeys(db, items)));

/** `reserveObjectKey`, batched with the other files reserving at the same time. */
export function reserveObjectKeyBatched(db: Db, object: NewObject): Promise<string> {
  return reservations(db)(object);
}

export interface NewRecordCommit {
  target: NewFileRecord;
  file: PreparedFile;
  stored: StoredObject;
  provenance: FileProvenance;
  /** The object was written for this file now (its reservation is not yet `stored`). */
  fresh: boolean;
  /** The owner's record cap, checked under the owner's lock in the commit. */
  quota?: UserQuotaSettings;
  /** The single-file commit, used when the batch cannot go whole. */
  alone: () => Promise<CommitOutcome>;
}

/** `gone`: the object is being retired; `record` undefined: a record with that uid existed (nothing changed). */
export type CommitOutcome = { gone: true } | { record: MediaRecord | undefined };

const commits = perDatabase((db: Db) =>
  createBatcher<NewRecordCommit, CommitOutcome>(async (items) => {
    const keys = items.map((item) => item.stored.storageKey);
    const uids = items.map((item) => item.target.uid);
    if (items.length === 1 || new Set(keys).size < keys.length || new Set(uids).size < uids.length) {
      return settleEach(items, (item) => item.alone());
    }
    try {
      // The record caps' per-user locks, taken in turn with this process's other writes for those users.
      const gates = items.some((item) => (item.quota?.maxRecords ?? 0) > 0)
        ? items.flatMap((item) => (item.target.userId === null ? [] : [recordsLock(item.target.userId)]))
        : [];
      const outcomes = await withOwnerGates(db, gates, () =>
        withDeadlockRetry(() => db.transaction((tx) => commitTogether(tx as Db, items))),
      );
      return outcomes.map((value) => ({ ok: true, value }));
    } catch {
      // The batch rolled back whole; each file commits on its own, and a bad one fails with its own error.
      return settleEach(items, (item) => item.alone());
    }
  }),
);

/** Commits a new record with its object, in one transaction with the other files committing at the same time. */
export function commitNewRecordBatched(db: Db, item: NewRecordCommit): Promise<CommitOutcome> {
  return commits(db)(item);
}

/** One transaction: reference every live object, insert the records, give back references whose uid was taken. */
async function commitTogether(db: Db, items: readonly NewRecordCommit[]): Promise<CommitOutcome[]> {
  const keys = items.map((item) => item.stored.storageKey);
  // The record caps first (per-user locks, users in order): a batch that would pass one rolls back and its files
  // commit one by one, so only the files past the cap are refused.
  const quota = items.find((item) => item.quota)?.quota;
  if (quota) {
    const adding = new Map<string, number>();
    for (const { target } of items) {
      if (target.userId !== null) adding.set(target.userId, (adding.get(target.userId) ?? 0) + 1);
    }
    await checkRecordQuota(db, quota, adding);
  }
  // Rows locked in key order first, so two processes' batches queue up instead of deadlocking.
  await lockObjects(db, keys);
  const referenced = await db
    .update(objects)
    .set({ refs: sql`${objects.refs} + 1`, stored: true, updatedAt: new Date() })
    .where(and(inArray(objects.key, keys), eq(objects.state, 'live')))
    .returning({ key: objects.key });
  const live = new Set(referenced.map((row) => row.key));
  const insert = items.filter((item) => live.has(item.stored.storageKey));
  const inserted =
    insert.length === 0
      ? []
      : await db
          .insert(records)
          .values(insert.map((item) => newRecordRow(item.target, item.file, item.stored, item.provenance)))
          .onConflictDoNothing({ target: records.uid })
          .returning();
  const byUid = new Map(inserted.map((record) => [record.uid, record as MediaRecord]));
  // A uid that existed already changes nothing, as a single commit rolled back would leave it: the reference is
  // taken back, and an object written for it now is again an unconfirmed reservation (the sweep's to retire).
  const taken = insert.filter((item) => !byUid.has(item.target.uid));
  for (const fresh of [true, false]) {
    const giveBack = taken.filter((item) => item.fresh === fresh).map((item) => item.stored.storageKey);
    if (giveBack.length === 0) continue;
    await db
      .update(objects)
      .set({ refs: sql`${objects.refs} - 1`, ...(fresh ? { stored: false } : {}), updatedAt: new Date() })
      .where(inArray(objects.key, giveBack));
  }
  return items.map((item) =>
    live.has(item.stored.storageKey) ? { record: byUid.get(item.target.uid) } : { gone: true as const },
  );
}
