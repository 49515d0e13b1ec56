/**
 * The per-user counts the quotas read (`user_usage`, decision 0057): kept by the database in the transaction that
 * changes objects and records, whatever path writes them, so a quota check costs one row however much a user holds.
 * Real PGlite and PostgreSQL; the migration's count of existing rows on an unmigrated PGlite.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import {
  deleteRecord,
  newUid,
  objects,
  openDatabase,
  RecordRepository,
  storeUpload,
  type UserQuotaSettings,
  usageCounts,
  userScope,
  userUsage,
} from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import type { ObjectStore } from '@mediaforge/storage';
import { eq, sql } from 'drizzle-orm';
import { migrationSteps } from '../db/migration-steps.ts';
import { storeFor, streamOf, testSettings, usageViolations } from '../integrity/support.ts';
import { refusal } from '../support/refusal.ts';

const KIB = 1024;
const textOf = (size: number) => new TextEncoder().encode(`${newUid()} `.repeat(Math.ceil(size / 37)).slice(0, size));

describeBackends('per-user usage counts', (backend) => {
  let store: ObjectStore;
  let close = async () => {};
  beforeAll(async () => {
    ({ store, close } = await storeFor(backend.kind));
  });
  afterAll(() => close());

  const db = () => backend.database().db;
  const unlimited = () => new RecordRepository(db());
  const user = () => `user-${newUid()}`;
  const upload = (uid: string, bytes: Uint8Array, owner: string, quota?: UserQuotaSettings) =>
    storeUpload(uid, streamOf(bytes), {
      replace: true,
      db: db(),
      store,
      settings: { ...testSettings(), ...(quota ? { quota } : {}) },
      scope: userScope(owner),
      compress: false,
    });
  const counted = async (owner: string) => {
    const usage = await userUsage(db(), owner, { storageBytes: 0, maxRecords: 0 });
    return { bytes: usage.storageBytes, records: usage.records };
  };

  test('uploads, a shared file, a replacement and deletions keep the counts equal to the rows', async () => {
    const alice = user();
    const bob = user();
    const [a1, a2, a3] = await unlimited().createMany(
      [{ mediaType: 'text' }, { mediaType: 'text' }, { mediaType: 'text' }],
      userScope(alice),
    );
    const [b1] = await unlimited().createMany([{ mediaType: 'text' }], userScope(bob));
    expect(await counted(alice)).toEqual({ bytes: 0, records: 3 });

    const shared = textOf(3 * KIB);
    await upload(a1?.uid as string, shared, alice);
    await upload(a2?.uid as string, shared, alice); // the same bytes: one object, counted once
    await upload(b1?.uid as string, shared, bob); // another owner: an object of bob's own
    expect(await counted(alice)).toEqual({ bytes: 3 * KIB, records: 3 });
    expect(await counted(bob)).toEqual({ bytes: 3 * KIB, records: 1 });

    await upload(a1?.uid as string, textOf(5 * KIB), alice); // a1 replaced; a2 still holds the shared object
    expect(await counted(alice)).toEqual({ bytes: 8 * KIB, records: 3 });
    await deleteRecord(db(), store, a2?.uid as string, userScope(alice)); // the shared object's last reference
    await deleteRecord(db(), store, a3?.uid as string, userScope(alice));
    expect(await counted(alice)).toEqual({ bytes: 5 * KIB, records: 1 });
    expect(await usageViolations(db())).toEqual([]);
  });

  test('one statement creating and deleting records of several users counts each user', async () => {
    const [carol, dave] = [user(), user()].sort();
    const repository = unlimited();
    await repository.createMany(
      Array.from({ length: 40 }, () => ({ mediaType: 'audio' as const })),
      userScope(carol as string),
    );
    await repository.createMany(
      Array.from({ length: 7 }, () => ({ mediaType: 'image' as const })),
      userScope(dave as string),
    );
    await db().execute(
      sql`delete from records where uid in (
        (select uid from records where user_id = ${carol} limit 15)
        union all (select uid from records where user_id = ${dave} limit 2))`,
    );
    expect(await counted(carol as string)).toEqual({ bytes: 0, records: 25 });
    expect(await counted(dave as string)).toEqual({ bytes: 0, records: 5 });
    expect(await usageViolations(db())).toEqual([]);
  });

  test('the quotas read the counts, not the rows: a count at the quota refuses the next file', async () => {
    const erin = user();
    const [record] = await unlimited().createMany([{ mediaType: 'text' }], userScope(erin));
    await upload(record?.uid as string, textOf(2 * KIB), erin);
    // Were the check summing erin's objects (2 KiB), the next 2 KiB would fit in 10 KiB.
    await db()
      .update(usageCounts)
      .set({ storedBytes: 9 * KIB })
      .where(eq(usageCounts.userId, erin));
    const [next] = await unlimited().createMany([{ mediaType: 'text' }], userScope(erin));
    const error = await refusal(
      upload(next?.uid as string, textOf(2 * KIB), erin, { storageBytes: 10 * KIB, maxRecords: 0 }),
    );
    expect(error.details).toMatchObject({ kind: 'storage', used: 9 * KIB, requested: 2 * KIB });
    await db()
      .update(usageCounts)
      .set({ storedBytes: 2 * KIB })
      .where(eq(usageCounts.userId, erin));
  });

  test("an object's refs moving leaves the counts alone; its state leaving live takes its bytes off", async () => {
    const frank = user();
    const key = `text/${newUid()}.txt`;
    await db()
      .insert(objects)
      .values({ key, sha256: 'ab'.repeat(32), size: 700, contentType: 'text/plain', ownerId: frank });
    expect(await counted(frank)).toEqual({ bytes: 700, records: 0 });
    await db().update(objects).set({ refs: 3 }).where(eq(objects.key, key));
    expect(await counted(frank)).toEqual({ bytes: 700, records: 0 });
    await db().update(objects).set({ state: 'deleting' }).where(eq(objects.key, key));
    expect(await counted(frank)).toEqual({ bytes: 0, records: 0 });
    await db().delete(objects).where(eq(objects.key, key));
    expect(await counted(frank)).toEqual({ bytes: 0, records: 0 });
    expect(await usageViolations(db())).toEqual([]);
  });
});

test('the migration counts what users already hold', async () => {
  const database = await openDatabase(); // in-memory PGlite, not migrated
  const { files, exec, apply } = migrationSteps(database);
  const usageMigration = files.findIndex((name) => name.includes('user_usage'));
  expect(usageMigration).toBeGreaterThan(0);
  try {
    await apply(files.slice(0, usageMigration));
    await exec(`
      insert into objects (key, sha256, size, content_type, owner_id, refs, stored, state) values
        ('a/1', 'aa', 100, 'text/plain', 'alice', 1, true, 'live'),
        ('a/2', 'bb', 20, 'text/plain', 'alice', 0, true, 'deleting'),
        ('b/1', 'cc', 7, 'text/plain', 'bob', 1, true, 'live'),
        ('n/1', 'dd', 9, 'text/plain', null, 1, true, 'live')`);
    await exec(`
      insert into records (uid, media_type, status, user_id) values
        ('01a20000-0000-7000-8000-000000000001', 'text', 'uploaded', 'alice'),
        ('01a20000-0000-7000-8000-000000000002', 'text', 'pending', 'alice'),
        ('01a20000-0000-7000-8000-000000000003', 'text', 'pending', 'carol'),
        ('01a20000-0000-7000-8000-000000000004', 'text', 'pending', null)`);
    await apply(files.slice(usageMigration));
    const counts = await exec<{ user_id: string; stored_bytes: string | number; records: string | number }>(
      'select user_id, stored_bytes::int as stored_bytes, records::int as records from user_usage order by user_id',
    );
    expect(counts).toEqual([
      { user_id: 'alice', stored_bytes: 100, records: 2 },
      { user_id: 'bob', stored_bytes: 7, records: 0 },
      { user_id: 'carol', stored_bytes: 0, records: 1 },
    ]);
  } finally {
    await database.close();
  }
});
