/**
 * The per-file statements of `storeFile`, sent for many files at once (group commit, see batcher.ts): the reuse
 * lookup, the key reservation and a new record's commit. Each batched form has exactly the single form's outcome for
 * every file; a batch that cannot be sent whole (a statement fails, two files name one key or uid) is run file by
 * file with the single forms, so a bad file gets its own typed error and its neighbours are stored as usual.
 */
import { and, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import type { UserQuotaSettings } from '../config/settings.ts';
import type { Db } from '../db/database.ts';
import { fixedInsert, fixedValues, type JsonRows, jsonRows } from '../db/fixed-statements.ts';
import { recordsLock, withOwnerGates } from '../db/owner-gates.ts';
import { postgresJsOf } from '../db/postgres-js.ts';
import { objects, records } from '../db/schema.ts';
import { decodeRecordRow, RECORD_COLUMNS, RECORD_KEYS } from '../records/by-uid.ts';
import type { MediaRecord } from '../records/record.ts';
import { withDeadlockRetry } from '../retry/rerun.ts';
import { createBatcher, perDatabase, type Settled, settleEach } from './batcher.ts';
import { canonicalKey } from './object-keys.ts';
import {
  lockObjects,
  type NewObject,
  type ObjectRow,
  objectColumns,
  objectRow,
  type ReusableObjects,
  reserveObjectKey,
  reusableCondition,
} from './objects.ts';
import type { PreparedFile } from './prepare.ts';
import { type FileProvenance, type NewFileRecord, newRecordRow, type StoredObject } from './record-file.ts';
import { checkRecordQuota } from './user-quota.ts';

type Reusable = ReusableObjects;

interface Lookup {
  ownerId: string | null;
  recordUid: string;
  sha256: string;
}

/** The batched lookup through drizzle (PGlite). */
function drizzleLookup(db: Db, items: readonly Lookup[]) {
  const owned = items.filter((item) => item.ownerId !== null);
  const unowned = items.filter((item) => item.ownerId === null);
  return db
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
}

const lookups = perDatabase((db: Db) =>
  createBatcher<Lookup, Reusable>(async (items) => {
    const rows = (await fixedLookup(db, items)) ?? (await drizzleLookup(db, items));
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

/** One branch of the lookup: each wanted (owner, content) probed on its own in the dedupe index. */
const lookupBranch = (wanted: string, owner: string) =>
  'select o."key", o."sha256", o."size", o."content_type", o."owner_id", o."record_uid", o."refs" ' +
  `from ${wanted} cross join lateral (select * from "objects" o where ${owner} and o."sha256" = w.sha256 ` +
  'and o."state" = \'live\' and (o."refs" > 0 or (o."record_uid" = any($4::uuid[]) and o."stored" = true and o."refs" = 0)) ' +
  'offset 0) o';

/**
 * The batched lookup (the condition of `reusableCondition`) as one fixed statement. `offset 0` keeps each probe a
 * lookup in the (owner, sha256) index whatever the statistics say: planned once for any batch, the plain `= any(…)`
 * form was planned as a scan of every live object (then filtered) while the table was newer than its statistics.
 */
export const LOOKUP_TEXT = `${lookupBranch('unnest($1::text[], $2::text[]) as w(owner_id, sha256)', 'o."owner_id" = w.owner_id')} union all ${lookupBranch('unnest($3::text[]) as w(sha256)', 'o."owner_id" is null')}`;

/** The batched lookup on PostgreSQL: the distinct (owner, sha256) pairs, and the unowned files' sha256s. */
async function fixedLookup(db: Db, items: readonly Lookup[]): Promise<(ObjectRow & { refs: number })[] | undefined> {
  const pairs = new Map<string, [string, string]>();
  const unowned = new Set<string>();
  for (const { ownerId, sha256 } of items) {
    if (ownerId === null) unowned.add(sha256);
    else pairs.set(JSON.stringify([ownerId, sha256]), [ownerId, sha256]);
  }
  const wanted = [...pairs.values()];
  const uids = items.map((item) => item.recordUid);
  const params = [wanted.map(([owner]) => owner), wanted.map(([, sha256]) => sha256), [...unowned], uids];
  const values = await fixedValues(db, LOOKUP_TEXT, params);
  return values?.map(([key, sha256, size, contentType, ownerId, recordUid, refs]) => ({
    key: key as string,
    sha256: sha256 as string,
    size: Number(size),
    contentType: contentType as string,
    ownerId: ownerId as string | null,
    recordUid: recordUid as string | null,
    refs: Number(refs),
  }));
}

/** The objects a file could use instead of a new one (`ReusableObjects`), looked up with the other files looking at the same time. */
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
  if (batched.length > 0) {
    const values = batched.map((index) => objectRow(items[index] as NewObject, canonical[index] as string));
    const rows =
      (await insertObjectRows(db, values)) ??
      (await db
        .insert(objects)
        .values(values)
        .onConflictDoNothing({ target: objects.key })
        .returning({ key: objects.key }));
    for (const row of rows) taken.add(row.key);
  }
  return settleEach(items, async (item, index) => {
    const key = canonical[index];
    if (key !== undefined && first.get(key) === index && taken.has(key)) return key;
    return reserveObjectKey(db, item);
  });
}

const OBJECT_ROW_KEYS = ['key', 'sha256', 'size', 'contentType', 'ownerId', 'recordUid'];
const insertObjectRows = fixedInsert<{ key: string }>(objects, OBJECT_ROW_KEYS, 'key', ['key']);

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
    if (new Set(keys).size < keys.length || new Set(uids).size < uids.length) {
      return settleEach(items, (item) => item.alone());
    }
    try {
      // The record caps' per-user locks, taken in turn with this process's other writes for those users.
      const maxRecords = items.find((item) => (item.quota?.maxRecords ?? 0) > 0)?.quota?.maxRecords ?? 0;
      const owners = maxRecords > 0 ? [...new Set(items.flatMap((item) => item.target.userId ?? []))].sort() : [];
      const cap = owners.length > 0 ? { owners, maxRecords } : undefined;
      const outcomes = await withOwnerGates(
        db,
        owners.map(recordsLock),
        async () =>
          (await withDeadlockRetry(() => commitInOneStatement(db, items, cap))) ??
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
  const referenced = await referenceLive(db, keys);
  const live = new Set(referenced);
  const insert = items.filter((item) => live.has(item.stored.storageKey));
  const inserted = insert.length === 0 ? [] : await insertNewRecords(db, insert);
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

const LOCK_TEXT = 'select 1 from "objects" where "key" = any($1::text[]) order by "key" for update';
const REFERENCE_TEXT =
  'update "objects" set "refs" = "refs" + 1, "stored" = true, "updated_at" = $2::timestamptz ' +
  'where "key" = any($1::text[]) and "state" = \'live\' returning "key"';

/** Locks the objects in key order, then adds a reference to each live one; returns the keys referenced. */
async function referenceLive(db: Db, keys: string[]): Promise<string[]> {
  const locked = await fixedValues(db, LOCK_TEXT, [keys]);
  if (locked) {
    const rows = (await fixedValues(db, REFERENCE_TEXT, [keys, new Date().toISOString()])) as unknown[][];
    return rows.map(([key]) => key as string);
  }
  await lockObjects(db, keys);
  const rows = await db
    .update(objects)
    .set({ refs: sql`${objects.refs} + 1`, stored: true, updatedAt: new Date() })
    .where(and(inArray(objects.key, keys), eq(objects.state, 'live')))
    .returning({ key: objects.key });
  return rows.map((row) => row.key);
}

const oneStatementCommits = new Map<string, { text: string; rows: JsonRows }>();

/**
 * `commitTogether` as one statement on PostgreSQL (its own transaction: no begin and commit to send): the objects
 * locked in key order, the records of the live ones inserted (a uid that exists already is skipped), and a reference
 * added to the object of each record inserted, so a skipped uid takes none, as the transaction's give-back leaves it.
 * With a record cap, the owners' locks are taken first, in order, as `checkRecordQuota` takes them, and the cap is
 * checked by the trigger that counts the records (migration 0013): passed, the statement fails whole and the batch's
 * files commit one by one. `undefined` on PGlite.
 */
async function commitInOneStatement(
  db: Db,
  items: readonly NewRecordCommit[],
  cap?: { owners: string[]; maxRecords: number },
): Promise<CommitOutcome[] | undefined> {
  if (!postgresJsOf(db)) return undefined;
  const rows = items.map((item) => newRecordRow(item.target, item.file, item.stored, item.provenance));
  const keys = Object.keys(rows[0] as object);
  const memo = `${cap ? 'capped' : 'open'}:${keys.join()}`;
  let statement = oneStatementCommits.get(memo);
  if (!statement) {
    const inserting = jsonRows(records, keys, 3);
    const gate = cap
      ? "gate as materialized (select set_config('mediaforge.max_records', $5::text, true), " +
        "pg_advisory_xact_lock(hashtext('mediaforge-records:' || o)) from unnest($4::text[]) as o), "
      : '';
    const text =
      `with ${gate}locked as materialized (select "key", "state" from "objects" where "key" = any($1::text[]) ` +
      `${cap ? 'and (select count(*) from gate) >= 0 ' : ''}order by "key" for update), ` +
      `inserted as (insert into "records" (${inserting.columns}) ${inserting.select} ` +
      `join locked on locked."key" = ${inserting.alias('storageKey')} ` +
      `and locked."state" = 'live' on conflict ("uid") do nothing returning ${RECORD_COLUMNS}), ` +
      'referenced as (update "objects" set "refs" = "objects"."refs" + 1, "stored" = true, "updated_at" = $2::timestamptz ' +
      'from inserted where "objects"."key" = inserted."storage_key") ' +
      `select locked."key", locked."state" = 'live', inserted.* ` +
      'from locked left join inserted on inserted."storage_key" = locked."key"';
    statement = { text, rows: inserting };
    oneStatementCommits.set(memo, statement);
  }
  const storageKeys = items.map((item) => item.stored.storageKey);
  const params: unknown[] = [storageKeys, new Date().toISOString(), statement.rows.encode(rows)];
  if (cap) params.push(cap.owners, String(cap.maxRecords));
  const returned = (await fixedValues(db, statement.text, params)) as unknown[][];
  const live = new Map<string, MediaRecord | undefined>();
  for (const [key, isLive, ...record] of returned) {
    if (isLive !== true) continue;
    live.set(key as string, record[0] === null ? undefined : decodeRecordRow(record));
  }
  return items.map((item) =>
    live.has(item.stored.storageKey) ? { record: live.get(item.stored.storageKey) } : { gone: true as const },
  );
}

/** Inserts the new records (a uid that exists already is skipped); returns those inserted. */
async function insertNewRecords(db: Db, items: readonly NewRecordCommit[]): Promise<MediaRecord[]> {
  const rows = items.map((item) => newRecordRow(item.target, item.file, item.stored, item.provenance));
  const fixed = fixedInsert<MediaRecord>(records, Object.keys(rows[0] as object), 'uid', RECORD_KEYS);
  return (
    (await fixed(db, rows)) ??
    ((await db.insert(records).values(rows).onConflictDoNothing({ target: records.uid }).returning()) as MediaRecord[])
  );
}
