/**
 * The `objects` table's statements: reserve a key before writing it, count references, and retire an object once
 * nothing refers to it. Deleting bytes from the store happens only after the row says `deleting` and only for rows
 * with no reference, so a record never points at bytes that are gone; a crash at any step leaves a row the sweep
 * (`sweepObjects`) finishes.
 */
import { and, asc, eq, inArray, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { type MediaType, objects } from '../db/schema.ts';
import { canonicalKey, freshKey, thumbnailKey } from './object-keys.ts';

export interface ObjectRow {
  key: string;
  sha256: string;
  size: number;
  contentType: string;
  ownerId: string | null;
  recordUid: string | null;
}

export interface NewObject {
  /** `thumbnail`: the record's thumbnail, under `thumbnails/` (see `thumbnailKey`). */
  mediaType: MediaType | 'thumbnail';
  uid: string;
  extension: string;
  sha256: string;
  size: number;
  contentType: string;
  ownerId: string | null;
}

/**
 * Reserves a key nobody has ever written: the canonical one when it was never used, else a fresh one. The primary
 * key makes the reservation atomic across processes.
 */
export async function reserveObjectKey(db: Db, object: NewObject): Promise<string> {
  const { mediaType } = object;
  const candidates = mediaType === 'thumbnail' ? [] : [canonicalKey(mediaType, object.uid, object.extension)];
  for (let attempt = 0; attempt < 5; attempt++) {
    const key =
      candidates[attempt] ??
      (mediaType === 'thumbnail' ? thumbnailKey(object.uid) : freshKey(mediaType, object.uid, object.extension));
    const [row] = await db
      .insert(objects)
      .values(objectRow(object, key))
      .onConflictDoNothing({ target: objects.key })
      .returning({ key: objects.key });
    if (row) return row.key;
  }
  throw new Error('Could not reserve an unused object key in 5 attempts; the key generator is broken.');
}

/**
 * What a file about to be stored for `recordUid` could use instead of a new object: complete, unreferenced objects
 * first written for this record (a run that stored but did not record), and a live, referenced object with this owner
 * and content (dedupe). Found for many files at once by `findReusableObjectsBatched` (object-batches.ts).
 */
export interface ReusableObjects {
  leftovers: ObjectRow[];
  shared: ObjectRow | undefined;
}

/** Live objects a file may use: referenced ones (dedupe), or complete unreferenced ones of these records. */
export function reusableCondition(recordUids: readonly string[]) {
  return and(
    eq(objects.state, 'live'),
    or(
      sql`${objects.refs} > 0`,
      and(inArray(objects.recordUid, [...recordUids]), eq(objects.stored, true), eq(objects.refs, 0)),
    ),
  );
}

/** The row that reserves `key` for a new object. */
export function objectRow(object: NewObject, key: string) {
  return {
    key,
    sha256: object.sha256,
    size: object.size,
    contentType: object.contentType,
    ownerId: object.ownerId,
    recordUid: object.uid,
  };
}

/**
 * Locks object rows in key order for the rest of the transaction, so two transactions that each take one object and
 * give up another (files swapping shared objects) queue up instead of deadlocking.
 */
export async function lockObjects(db: Db, keys: readonly string[]): Promise<void> {
  // One row needs no ordering: the statement that changes it takes its lock.
  if (keys.length < 2) return;
  await db
    .select({ key: objects.key })
    .from(objects)
    .where(inArray(objects.key, [...keys]))
    .orderBy(asc(objects.key))
    .for('update');
}

/**
 * Adds a reference to a live object (and notes its bytes are complete). False when the object is being retired:
 * the caller must not point a record at it. Run inside the transaction that writes the referring record.
 */
export async function addObjectReference(db: Db, key: string): Promise<boolean> {
  const [row] = await db
    .update(objects)
    .set({ refs: sql`${objects.refs} + 1`, stored: true, updatedAt: new Date() })
    .where(and(eq(objects.key, key), eq(objects.state, 'live')))
    .returning({ key: objects.key });
  return row !== undefined;
}

/** Notes that an object's bytes are complete without referring to it (the generator's `updateRecord: false`). */
export async function markObjectStored(db: Db, key: string): Promise<void> {
  await db.update(objects).set({ stored: true, updatedAt: new Date() }).where(eq(objects.key, key));
}

/**
 * Drops one reference; returns true when it was the last, in which case the object is now `deleting` and the
 * caller removes its bytes after committing (`retireObjects`). Run inside the transaction that drops the reference.
 */
export async function dropObjectReference(db: Db, key: string): Promise<boolean> {
  const [row] = await db
    .update(objects)
    .set({
      refs: sql`greatest(${objects.refs} - 1, 0)`,
      state: sql`case when ${objects.refs} <= 1 then 'deleting'::object_state else ${objects.state} end`,
      updatedAt: new Date(),
    })
    .where(eq(objects.key, key))
    .returning({ state: objects.state });
  return row?.state === 'deleting';
}

/** Retires an object nobody refers to (a reservation whose file was never recorded). True when it was retired. */
export async function retireUnreferenced(db: Db, key: string): Promise<boolean> {
  const [row] = await db
    .update(objects)
    .set({ state: 'deleting', updatedAt: new Date() })
    .where(and(eq(objects.key, key), eq(objects.refs, 0), eq(objects.state, 'live')))
    .returning({ key: objects.key });
  return row !== undefined;
}

/** Removes the bytes of `deleting` objects, then marks them `deleted` (the row stays: the key is never reused). */
export async function removeRetiredBytes(
  db: Db,
  store: { delete(key: string): Promise<void> },
  keys: readonly string[],
): Promise<void> {
  for (const key of keys) {
    await store.delete(key);
    await db
      .update(objects)
      .set({ state: 'deleted', updatedAt: new Date() })
      .where(and(eq(objects.key, key), eq(objects.state, 'deleting')));
  }
}

/**
 * Finishes what crashes left: objects being retired, and reservations never completed (unreferenced, bytes never
 * confirmed) older than `graceMs` — longer than any claim may run, so no live claim can still point at them.
 */
export async function sweepObjects(
  db: Db,
  store: { delete(key: string): Promise<void> },
  { graceMs, limit = 1000 }: { graceMs: number; limit?: number },
): Promise<{ removed: number }> {
  const cutoff = sql`now() - make_interval(secs => ${graceMs / 1000}::double precision)`;
  const candidates = await db
    .select({ key: objects.key })
    .from(objects)
    .where(
      and(
        eq(objects.refs, 0),
        or(
          and(eq(objects.state, 'deleting'), lt(objects.updatedAt, sql`now() - interval '1 minute'`)),
          and(eq(objects.state, 'live'), eq(objects.stored, false), lt(objects.createdAt, cutoff)),
        ),
      ),
    )
    .limit(limit);
  const retired: string[] = [];
  for (const { key } of candidates) {
    const [row] = await db
      .update(objects)
      .set({ state: 'deleting', updatedAt: new Date() })
      .where(
        and(eq(objects.key, key), eq(objects.refs, 0), or(eq(objects.state, 'deleting'), eq(objects.state, 'live'))),
      )
      .returning({ key: objects.key });
    if (row) retired.push(row.key);
  }
  await removeRetiredBytes(db, store, retired);
  return { removed: retired.length };
}

export const objectColumns = {
  key: objects.key,
  sha256: objects.sha256,
  size: objects.size,
  contentType: objects.contentType,
  ownerId: objects.ownerId,
  recordUid: objects.recordUid,
};
