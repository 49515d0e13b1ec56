/**
 * Per-user quotas (issue 18): a user past USER_STORAGE_QUOTA_MB has uploads, URL ingests and generation refused with
 * QUOTA_EXCEEDED before any byte is written, and a user at USER_MAX_RECORDS cannot create more records, singly or in
 * a batch; other users are unaffected. Real PGlite and PostgreSQL, real stores.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import {
  ALL_USERS,
  type FileProcessingError,
  newUid,
  objects,
  processUrl,
  RecordFileGenerator,
  RecordRepository,
  records,
  reserveObjectKey,
  reserveWithinQuota,
  storeUpload,
  type UserQuotaSettings,
  userScope,
  userUsage,
} from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import type { ObjectStore } from '@mediaforge/storage';
import { eq } from 'drizzle-orm';
import { storeFor, streamOf, testSettings, writeOnce } from '../integrity/support.ts';
import { filesOrigin } from '../support/origins.ts';
import { refusal } from '../support/refusal.ts';

const KIB = 1024;
/** Distinct printable text of `size` bytes (distinct so dedupe never spares a write). */
const textOf = (size: number) => new TextEncoder().encode(`${newUid()} `.repeat(Math.ceil(size / 37)).slice(0, size));

const origin = filesOrigin();
afterAll(() => origin.server.stop(true));

describeBackends('user quotas', (backend) => {
  let base: ObjectStore;
  let close = async () => {};
  const quota: UserQuotaSettings = { storageBytes: 10 * KIB, maxRecords: 5 };
  const settings = { ...testSettings(), quota };
  beforeAll(async () => {
    ({ store: base, close } = await storeFor(backend.kind));
  });
  afterAll(() => close());

  const db = () => backend.database().db;
  const repo = () => new RecordRepository(db(), { quota });
  const unlimited = () => new RecordRepository(db());
  const user = () => `user-${newUid()}`;
  const objectsOf = (owner: string) => db().select().from(objects).where(eq(objects.ownerId, owner));
  const recordsOf = (owner: string) => db().select().from(records).where(eq(records.userId, owner));
  const upload = (uid: string, bytes: Uint8Array, owner: string, store: ObjectStore) =>
    storeUpload(uid, streamOf(bytes), { db: db(), store, settings, scope: userScope(owner), compress: false });

  test('an upload past the storage quota is refused before any byte is written; the record is unchanged', async () => {
    const alice = user();
    const checked = writeOnce(base);
    const [first, second] = await unlimited().createMany(
      [{ mediaType: 'text' }, { mediaType: 'text' }],
      userScope(alice),
    );
    await upload(first?.uid as string, textOf(6 * KIB), alice, checked.store);
    expect(checked.written).toHaveLength(1);

    const error = await refusal(upload(second?.uid as string, textOf(6 * KIB), alice, checked.store));
    expect(error.details).toMatchObject({ kind: 'storage', used: 6 * KIB, requested: 6 * KIB, limit: 10 * KIB });
    expect(checked.written).toHaveLength(1);
    const after = await unlimited().get(second?.uid as string, ALL_USERS);
    expect(after).toMatchObject({ status: 'pending', storageKey: null });
    expect(await objectsOf(alice)).toHaveLength(1);
    expect((await userUsage(db(), alice, quota)).storageBytes).toBe(6 * KIB);

    // Another user's quota is their own.
    const bob = user();
    const [bobs] = await unlimited().createMany([{ mediaType: 'text' }], userScope(bob));
    await upload(bobs?.uid as string, textOf(6 * KIB), bob, checked.store);
    expect((await userUsage(db(), bob, quota)).storageBytes).toBe(6 * KIB);
  });

  test('reservations of one user made at once cannot together pass the storage quota', async () => {
    const alice = user();
    const object = () => ({
      mediaType: 'text' as const,
      uid: newUid(),
      extension: '.txt',
      sha256: newUid(),
      size: 4 * KIB,
      contentType: 'text/plain',
      ownerId: alice,
    });
    // 6 × 4 KiB at once against 10 KiB: checked without the owner's lock, every check saw nothing used yet (the
    // statements queue on the pool before any reservation lands) and all 6 were reserved.
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, () => reserveWithinQuota({ db: db(), settings }, object(), reserveObjectKey)),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(2);
    for (const outcome of outcomes.filter((outcome) => outcome.status === 'rejected')) {
      expect((outcome as PromiseRejectedResult).reason).toMatchObject({ code: 'QUOTA_EXCEEDED' });
    }
    expect((await userUsage(db(), alice, quota)).storageBytes).toBe(8 * KIB);
    // And through the pipeline: two uploads at once that would together pass it store one.
    const bob = user();
    const checked = writeOnce(base);
    const made = await unlimited().createMany([{ mediaType: 'text' }, { mediaType: 'text' }], userScope(bob));
    const uploads = await Promise.allSettled(
      made.map((record) => upload(record.uid, textOf(6 * KIB), bob, checked.store)),
    );
    expect(uploads.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(checked.written).toHaveLength(1);
  });

  test('a URL ingest past the storage quota is refused: no object, no record', async () => {
    const alice = user();
    const checked = writeOnce(base);
    const ingest = (path: string, uid: string) => {
      return processUrl(origin.serve(path, textOf(6 * KIB)), {
        db: db(),
        store: checked.store,
        settings,
        userId: alice,
        recordUid: uid,
        policy: { allowHosts: ['127.0.0.1'] },
      });
    };
    await ingest(`/${newUid()}.txt`, newUid());
    const refusedUid = newUid();
    await refusal(ingest(`/${newUid()}.txt`, refusedUid));
    expect(checked.written).toHaveLength(1);
    expect(await unlimited().find(refusedUid, ALL_USERS)).toBeNull();
    expect(await objectsOf(alice)).toHaveLength(1);
  });

  test('a URL ingest is refused at the record cap', async () => {
    const alice = user();
    await repo().createMany(
      Array.from({ length: quota.maxRecords }, () => ({ mediaType: 'text' as const })),
      userScope(alice),
    );
    const path = `/${newUid()}.txt`;
    const url = origin.serve(path, textOf(KIB));
    const checked = writeOnce(base);
    const error = await refusal(
      processUrl(url, {
        db: db(),
        store: checked.store,
        settings,
        userId: alice,
        policy: { allowHosts: ['127.0.0.1'] },
      }),
    );
    expect(error.details).toMatchObject({ kind: 'records' });
    expect(checked.written).toHaveLength(0);
    expect(await recordsOf(alice)).toHaveLength(quota.maxRecords);
  });

  test('generation past the storage quota is refused; the record stays pending without a file', async () => {
    const alice = user();
    const checked = writeOnce(base);
    const made = await unlimited().createMany([{ mediaType: 'text' }, { mediaType: 'text' }], userScope(alice));
    const generator = new RecordFileGenerator({ db: db(), store: checked.store, settings, scope: userScope(alice) });
    expect((await generator.processRecord(made[0]?.uid as string, { fileSizeKb: 6 })).success).toBe(true);
    const result = await generator.processRecord(made[1]?.uid as string, { fileSizeKb: 6 });
    expect(result).toMatchObject({ success: false, error: { code: 'QUOTA_EXCEEDED' } });
    expect(checked.written).toHaveLength(1);
    expect(await unlimited().get(made[1]?.uid as string, ALL_USERS)).toMatchObject({
      status: 'pending',
      storageKey: null,
    });
  });

  test('the record cap refuses single and batch creation with nothing created; others unaffected', async () => {
    const alice = user();
    await repo().createMany(
      Array.from({ length: quota.maxRecords - 2 }, () => ({ mediaType: 'text' as const })),
      userScope(alice),
    );
    // A batch of three with room for two: all refused.
    const batch = await refusal(
      repo().createMany(
        Array.from({ length: 3 }, () => ({ mediaType: 'text' as const })),
        userScope(alice),
      ),
    );
    expect(batch.details).toMatchObject({ kind: 'records', used: quota.maxRecords - 2, requested: 3 });
    expect(await recordsOf(alice)).toHaveLength(quota.maxRecords - 2);
    await repo().create({ mediaType: 'text' }, userScope(alice));
    await repo().create({ mediaType: 'text' }, userScope(alice));
    await refusal(repo().create({ mediaType: 'text' }, userScope(alice)));
    // An admin creating for the user is held to the same cap.
    await refusal(repo().create({ mediaType: 'text', userId: alice }, ALL_USERS));
    expect(await recordsOf(alice)).toHaveLength(quota.maxRecords);
    expect((await userUsage(db(), alice, quota)).records).toBe(quota.maxRecords);

    // Records without a user are not counted; another user has their own cap.
    await repo().createMany(
      Array.from({ length: quota.maxRecords + 1 }, () => ({ mediaType: 'text' as const })),
      ALL_USERS,
    );
    const bob = user();
    await repo().create({ mediaType: 'text' }, userScope(bob));
    expect(await recordsOf(bob)).toHaveLength(1);
  });

  test('concurrent creations cannot race past the record cap', async () => {
    const alice = user();
    const attempts = await Promise.allSettled(
      Array.from({ length: 12 }, () => repo().create({ mediaType: 'text' }, userScope(alice))),
    );
    expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(quota.maxRecords);
    for (const attempt of attempts) {
      if (attempt.status === 'rejected') expect((attempt.reason as FileProcessingError).code).toBe('QUOTA_EXCEEDED');
    }
    expect(await recordsOf(alice)).toHaveLength(quota.maxRecords);
  });

  test('0 means unlimited', async () => {
    const alice = user();
    const open = new RecordRepository(db(), { quota: { storageBytes: 0, maxRecords: 0 } });
    await open.createMany(
      Array.from({ length: 20 }, () => ({ mediaType: 'text' as const })),
      userScope(alice),
    );
    expect(await recordsOf(alice)).toHaveLength(20);
  });
});
