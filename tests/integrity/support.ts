/** Shared pieces of the integrity suites: stores per backend, a write-once-checking store, payloads, invariants. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Db, objects, type RecordRow, readAll, records, sha256Hex } from '@mediaforge/core';
import type { BackendKind } from '@mediaforge/core/testing';
import { createFileStore, createS3Store, type ObjectStore } from '@mediaforge/storage';
import { S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from '@mediaforge/storage/testing';
import { isNotNull, sql } from 'drizzle-orm';

export const FIXTURES = join(import.meta.dir, '../../packages/core/test/fixtures');

export function testSettings() {
  return {
    maxFileSizeBytes: 2 * 1024 * 1024,
    taskTimeoutMinutes: 30,
    maxBatchSize: 100,
    allowHosts: [] as string[],
    home: mkdtempSync(join(tmpdir(), 'mediaforge-integrity-home-')),
  };
}

/** PGlite runs with the local disk, PostgreSQL with S3 (s3rver on loopback). */
export async function storeFor(kind: BackendKind): Promise<{ store: ObjectStore; close: () => Promise<void> }> {
  if (kind === 'postgres') {
    const s3: TestS3Server = await startS3Server();
    return {
      store: createS3Store({ bucket: s3.bucket, endpoint: s3.endpoint, ...S3RVER_CREDENTIALS }),
      close: () => s3.close(),
    };
  }
  return {
    store: createFileStore({ root: mkdtempSync(join(tmpdir(), 'mediaforge-integrity-objects-')) }),
    close: async () => {},
  };
}

/**
 * A real store that records every key written (put and putFile) and notes any key written a second time: objects
 * are write-once, so `rewritten` must stay empty.
 */
export function writeOnce(store: ObjectStore) {
  const written: string[] = [];
  const seen = new Set<string>();
  const rewritten: string[] = [];
  const note = (key: string) => {
    if (seen.has(key)) rewritten.push(key);
    seen.add(key);
    written.push(key);
  };
  const wrapped: ObjectStore = {
    ...store,
    driver: store.driver,
    objectUrl: (key) => store.objectUrl(key),
    put(key, body, options) {
      note(key);
      return store.put(key, body, options);
    },
    get: (key, options) => store.get(key, options),
    head: (key) => store.head(key),
    delete: (key) => store.delete(key),
    list: (prefix, options) => store.list(prefix, options),
    url: (key, options) => store.url(key, options),
    copy: (from, to) => store.copy(from, to),
  };
  const putFile = store.putFile?.bind(store);
  if (putFile) {
    wrapped.putFile = (key, path, options) => {
      note(key);
      return putFile(key, path, options);
    };
  }
  return { store: wrapped, written, rewritten };
}

/** The sha256 of the stored object's bytes, or `null` when the object is missing. */
export async function storedSha(store: ObjectStore, key: string): Promise<string | null> {
  const object = await store.get(key);
  if (!object) return null;
  return sha256Hex(await readAll(object.body as ReadableStream<Uint8Array>));
}

export async function allStoreKeys(store: ObjectStore): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list('', cursor ? { cursor } : {});
    keys.push(...page.items.map((i) => i.key));
    cursor = page.nextCursor;
  } while (cursor);
  return keys;
}

export const bytesOf = (name: string) => Bun.file(join(FIXTURES, name)).bytes();
export const streamOf = (bytes: Uint8Array) =>
  new Blob([bytes as Uint8Array<ArrayBuffer>]).stream() as ReadableStream<Uint8Array>;

/**
 * The storage invariants: every record with a key points at a live object row whose `refs` counts exactly the
 * records pointing at it, and whose bytes exist and hash to the record's sha256; no live referenced object is missing
 * from the store; no deleted/deleting object is referenced. Returns the violations found (empty when all hold).
 */
export async function storageViolations(db: Db, store: ObjectStore): Promise<string[]> {
  const violations: string[] = await usageViolations(db);
  const withFiles: RecordRow[] = await db.select().from(records).where(isNotNull(records.storageKey));
  const rows = await db.select().from(objects);
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const refCount = new Map<string, number>();
  for (const record of withFiles) {
    const key = record.storageKey as string;
    refCount.set(key, (refCount.get(key) ?? 0) + 1);
  }
  for (const record of withFiles) {
    const key = record.storageKey as string;
    const row = byKey.get(key);
    if (!row) {
      violations.push(`record ${record.uid} points at ${key}, which has no objects row`);
      continue;
    }
    if (row.state !== 'live') violations.push(`record ${record.uid} points at ${key} in state ${row.state}`);
    if (row.sha256 !== record.sha256) violations.push(`record ${record.uid} sha256 differs from object ${key}'s row`);
    const sha = await storedSha(store, key);
    if (sha === null) violations.push(`record ${record.uid}'s object ${key} is missing from the store`);
    else if (sha !== record.sha256) violations.push(`record ${record.uid}'s object ${key} hashes to ${sha}`);
  }
  for (const row of rows) {
    const expected = refCount.get(row.key) ?? 0;
    if (row.refs !== expected) violations.push(`object ${row.key} has refs ${row.refs}, but ${expected} records`);
    if (row.state === 'live' && row.refs > 0 && !refCount.has(row.key) && (await storedSha(store, row.key)) === null) {
      violations.push(`live referenced object ${row.key} is missing from the store`);
    }
  }
  return violations;
}

/**
 * The per-user counts the database keeps (`user_usage`, for the quotas) against the rows they count: the bytes of
 * each user's live objects and the number of each user's records. Returns one line per user whose counts differ.
 */
export async function usageViolations(db: Db): Promise<string[]> {
  const result = await db.execute(sql`
    select coalesce(u.user_id, c.user_id) as user_id,
           coalesce(u.stored_bytes, 0)::text as kept_bytes, coalesce(c.bytes, 0)::text as bytes,
           coalesce(u.records, 0)::text as kept_records, coalesce(c.records, 0)::text as records
    from user_usage u
    full join (
      select user_id, sum(bytes) as bytes, sum(n) as records from (
        select owner_id as user_id, size as bytes, 0 as n from objects where owner_id is not null and state = 'live'
        union all
        select user_id, 0, 1 from records where user_id is not null
      ) e group by user_id
    ) c on c.user_id = u.user_id
    where coalesce(u.stored_bytes, 0) <> coalesce(c.bytes, 0) or coalesce(u.records, 0) <> coalesce(c.records, 0)`);
  const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Record<string, string>[];
  return rows.map(
    (r) =>
      `user ${r.user_id}: counted ${r.kept_bytes} bytes, ${r.kept_records} records; holds ${r.bytes}, ${r.records}`,
  );
}
