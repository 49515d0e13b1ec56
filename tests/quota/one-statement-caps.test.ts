/**
 * A batch's key reservations and record commits go to PostgreSQL as one statement each (decision 0059), where the
 * quotas were checked in a transaction that read the owner's usage under the owner's lock. The count a statement
 * could read is as of its start, before it waits for that lock, so the check is made by the triggers that count the
 * usage (migration 0013). Three processes (three database handles, each with its own batchers) ingest for one user
 * at once, each batch fitting alone and not together: the user ends exactly at the cap, the rest are refused with
 * QUOTA_EXCEEDED, and the counts equal the rows. Real PostgreSQL, the local disk.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Database,
  newUid,
  objects,
  openDatabase,
  processFileBatch,
  records,
  type UserQuotaSettings,
  userUsage,
} from '@mediaforge/core';
import { createTestPostgres, type TestPostgres } from '@mediaforge/core/testing';
import { createFileStore } from '@mediaforge/storage';
import { and, eq, sql } from 'drizzle-orm';
import { filesOrigin } from '../support/origins.ts';

const SIZE = 2048;
const origin = filesOrigin();
/** `count` URLs of distinct text files of SIZE bytes. */
const urls = (count: number) =>
  Array.from({ length: count }, () =>
    origin.serve(`/${newUid()}.txt`, new TextEncoder().encode(`${newUid()} `.repeat(SIZE / 37 + 1).slice(0, SIZE))),
  );

let postgres: TestPostgres;
let handles: Database[] = [];
beforeAll(async () => {
  postgres = await createTestPostgres();
  handles = await Promise.all(
    [0, 1, 2].map(async () => {
      const database = await openDatabase({ url: postgres.url, maxConnections: 4 });
      await database.migrate();
      return database;
    }),
  );
});
afterAll(async () => {
  origin.server.stop(true);
  for (const database of handles) await database.close();
  await postgres.drop();
});

/** Three processes ingest 12 files each for `userId` at once; returns the refusals' kinds. */
async function ingestFromThree(userId: string, quota: UserQuotaSettings) {
  const home = mkdtempSync(join(tmpdir(), 'mediaforge-caps-'));
  const store = createFileStore({ root: join(home, 'objects') });
  const settings = { maxFileSizeBytes: 1024 * 1024, maxBatchSize: 100, home, quota };
  const results = await Promise.all(
    handles.map((database) =>
      processFileBatch({
        db: database.db,
        store,
        settings,
        userId,
        urls: urls(12),
        maxConcurrent: 12,
        policy: { allowHosts: ['127.0.0.1'] },
      }),
    ),
  );
  const failed = results.flatMap((result) => result.failedFiles);
  for (const failure of failed) expect(failure.code).toBe('QUOTA_EXCEEDED');
  return { stored: results.flatMap((result) => result.processedFiles), failed };
}

/** The user's rows, as the counts should have them. */
async function held(userId: string) {
  const { db } = handles[0] as Database;
  const [rows] = await db
    .select({ records: sql<number>`count(*)::int` })
    .from(records)
    .where(eq(records.userId, userId));
  const [live] = await db
    .select({
      bytes: sql<number>`coalesce(sum(${objects.size}), 0)::int`,
      refs: sql<number>`coalesce(sum(${objects.refs}), 0)::int`,
    })
    .from(objects)
    .where(and(eq(objects.ownerId, userId), eq(objects.state, 'live')));
  return { records: rows?.records ?? 0, bytes: live?.bytes ?? 0, refs: live?.refs ?? 0 };
}

test('the record cap holds exactly when three processes commit batches for one user at once', async () => {
  const quota = { storageBytes: 0, maxRecords: 20 };
  const { stored, failed } = await ingestFromThree('carol', quota);
  expect(stored).toHaveLength(20);
  expect(failed).toHaveLength(16);
  const rows = await held('carol');
  expect(rows.records).toBe(20);
  expect(rows.refs).toBe(20);
  const usage = await userUsage((handles[0] as Database).db, 'carol', quota);
  expect(usage.records).toBe(20);
  expect(usage.storageBytes).toBe(rows.bytes);
});

test('the storage quota holds exactly when three processes reserve batches for one user at once', async () => {
  const quota = { storageBytes: 20 * SIZE, maxRecords: 0 };
  const { stored, failed } = await ingestFromThree('dave', quota);
  expect(stored).toHaveLength(20);
  expect(failed).toHaveLength(16);
  const rows = await held('dave');
  expect(rows.bytes).toBe(20 * SIZE);
  expect(rows.records).toBe(20);
  expect((await userUsage((handles[0] as Database).db, 'dave', quota)).storageBytes).toBe(20 * SIZE);
});
