/**
 * The invariants the crash-steps scenario checks after each kill (on top of tests/integrity's storage invariants):
 * nothing in the store without an objects row, nothing retired still there, and — after the sweep — nothing left
 * that no record refers to except complete leftovers a later run of the same record may still use.
 */
import { type Db, objects, records } from '@mediaforge/core';
import type { ObjectStore } from '@mediaforge/storage';
import { eq, isNotNull } from 'drizzle-orm';
import { allStoreKeys, storageViolations } from '../../tests/integrity/support.ts';

export interface StoreCensus {
  /** Store keys no record refers to (what a crash leaves until the sweep). */
  unreferenced: string[];
  /** Unreferenced keys that are not complete leftovers: must be none after the sweep. */
  orphans: string[];
  violations: string[];
}

export async function storeCensus(db: Db, store: ObjectStore): Promise<StoreCensus> {
  const violations = await storageViolations(db, store);
  const referenced = new Set(
    (await db.select({ key: records.storageKey }).from(records).where(isNotNull(records.storageKey))).map(
      (r) => r.key as string,
    ),
  );
  const rows = new Map((await db.select().from(objects)).map((row) => [row.key, row]));
  const unreferenced: string[] = [];
  const orphans: string[] = [];
  for (const key of await allStoreKeys(store)) {
    const row = rows.get(key);
    if (!row) violations.push(`store key ${key} has no objects row`);
    if (referenced.has(key)) continue;
    unreferenced.push(key);
    if (!(row && row.state === 'live' && row.stored && row.refs === 0)) {
      orphans.push(`${key} (${row ? `${row.state}, stored=${row.stored}, refs=${row.refs}` : 'no row'})`);
    }
  }
  return { unreferenced, orphans, violations };
}

/** Records still `processing` (a claim nobody holds any more, once every process is gone). */
export async function processingRecords(db: Db): Promise<string[]> {
  return (await db.select({ uid: records.uid }).from(records).where(eq(records.status, 'processing'))).map(
    (r) => r.uid,
  );
}
