/**
 * Thumbnails count towards USER_STORAGE_QUOTA_MB like any object (decision 0041): a file that fits with no room left
 * for its thumbnail is stored without one, and a duplicate (which writes no bytes of its own) gets no thumbnail past
 * the quota either. Real PGlite and PostgreSQL, real stores.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import {
  newUid,
  objects,
  RecordRepository,
  storeUpload,
  type UserQuotaSettings,
  userScope,
  userUsage,
} from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import type { ObjectStore } from '@mediaforge/storage';
import { eq } from 'drizzle-orm';
import { bytesOf, storeFor, streamOf, testSettings, writeOnce } from '../integrity/support.ts';

describeBackends('thumbnails under the storage quota', (backend) => {
  let base: ObjectStore;
  let close = async () => {};
  beforeAll(async () => {
    ({ store: base, close } = await storeFor(backend.kind));
  });
  afterAll(() => close());

  test('no thumbnail object is written past the quota; the file itself is stored, a duplicate too', async () => {
    const png = await bytesOf('fixture.png');
    // Room for the file and 16 bytes more: never enough for a WebP thumbnail.
    const quota: UserQuotaSettings = { storageBytes: png.byteLength + 16, maxRecords: 0 };
    const db = backend.database().db;
    const alice = `alice-${newUid()}`;
    const checked = writeOnce(base);
    const [first, second] = await new RecordRepository(db).createMany(
      [{ mediaType: 'image' }, { mediaType: 'image' }],
      userScope(alice),
    );
    const upload = (uid: string) =>
      storeUpload(uid, streamOf(png), {
        db,
        store: checked.store,
        settings: { ...testSettings(), quota },
        scope: userScope(alice),
        compress: false,
        thumbnails: true,
      });
    const stored = await upload(first?.uid as string);
    expect(stored.record.fileSize).toBe(png.byteLength);
    expect(stored.thumbnail).toMatchObject({ status: 'skipped' });
    expect(stored.thumbnail?.status === 'skipped' ? stored.thumbnail.reason : '').toContain('quota');
    const duplicate = await upload(second?.uid as string);
    expect(duplicate.duplicateOf).toBe(first?.uid);
    expect(duplicate.thumbnail).toMatchObject({ status: 'skipped' });

    const owned = await db.select().from(objects).where(eq(objects.ownerId, alice));
    expect(owned.map((object) => object.key.split('/')[0])).toEqual(['image']);
    expect(checked.written.filter((key) => key.startsWith('thumbnails/'))).toEqual([]);
    expect((await userUsage(db, alice, quota)).storageBytes).toBeLessThanOrEqual(quota.storageBytes);
  });
});
