/**
 * What a record says about its file and thumbnail after an upload and an optimization, on PostgreSQL: the upload's
 * answer shows the thumbnail it stored; an optimization keeps the original name and gives the new file a thumbnail of
 * its own (or, with thumbnails off, drops the old one and its object), so no record advertises a thumbnail that 404s.
 */
import { expect, test } from 'bun:test';
import { join } from 'node:path';
import { ALL_USERS, objects, optimizeRecord, records } from '@mediaforge/core';
import { eq, sql } from 'drizzle-orm';
import { errorOf, FIXTURES, useApiOnPostgres } from '../api/support.ts';

const setup = useApiOnPostgres();

interface RecordBody {
  uid: string;
  originalName: string | null;
  sha256: string;
  thumbnailUrl: string | null;
  metadata: { thumbnail?: { sourceSha256: string }; optimized?: unknown };
}

/** An image record with fixture.jpg stored as it came, named holiday.jpg; the upload's 201 body. */
async function uploadHoliday(): Promise<RecordBody> {
  const { api } = setup;
  const created = await api.call('POST', '/v1/records', { json: { mediaType: 'image' } });
  const { uid } = (await created.json()) as { uid: string };
  const response = await api.call('POST', `/v1/records/${uid}/file?compress=false&fileName=holiday.jpg`, {
    body: Bun.file(join(FIXTURES, 'fixture.jpg')),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { record: RecordBody }).record;
}

async function recordOf(uid: string): Promise<RecordBody> {
  return (await (await setup.api.call('GET', `/v1/records/${uid}`)).json()) as RecordBody;
}

async function thumbnailKeyOf(uid: string): Promise<string | null> {
  const [row] = await setup.api.database.db.select().from(records).where(eq(records.uid, uid));
  return row?.thumbnailKey ?? null;
}

async function optimize(uid: string, thumbnails: boolean) {
  const { api } = setup;
  return optimizeRecord(uid, {
    db: api.database.db,
    store: api.store,
    settings: api.settings,
    scope: ALL_USERS,
    quality: 40,
    staleAfterMs: 60_000,
    thumbnails,
  });
}

/** The thumbnail object `key` is released: no reference, retired, its bytes gone from the store. */
async function expectReleased(key: string) {
  const [row] = await setup.api.database.db.select().from(objects).where(eq(objects.key, key));
  expect(row).toMatchObject({ refs: 0, state: 'deleted' });
  expect(await setup.api.store.head(key)).toBeNull();
}

test("an upload's 201 body shows the thumbnail it stored", async () => {
  const uploaded = await uploadHoliday();
  expect(uploaded.thumbnailUrl).toBe(`/v1/records/${uploaded.uid}/thumbnail`);
  expect(uploaded.metadata.thumbnail?.sourceSha256).toBe(uploaded.sha256);
  const thumbnail = await setup.api.call('GET', uploaded.thumbnailUrl as string);
  expect(thumbnail.status).toBe(200);
  expect(thumbnail.headers.get('content-type')).toBe('image/webp');
  await thumbnail.body?.cancel();
});

test('optimization keeps the original name and makes a thumbnail of the new file; the old one goes', async () => {
  const uploaded = await uploadHoliday();
  const first = (await thumbnailKeyOf(uploaded.uid)) as string;
  expect(first).toStartWith('thumbnails/');

  expect(await optimize(uploaded.uid, true)).toMatchObject({ outcome: 'optimized' });
  const after = await recordOf(uploaded.uid);
  expect(after.sha256).not.toBe(uploaded.sha256);
  expect(after.originalName).toBe('holiday.jpg');
  expect(after.metadata.optimized).toMatchObject({ quality: 40 });
  expect(after.metadata.thumbnail?.sourceSha256).toBe(after.sha256);
  expect(after.thumbnailUrl).toBe(`/v1/records/${uploaded.uid}/thumbnail`);
  const thumbnail = await setup.api.call('GET', after.thumbnailUrl as string);
  expect(thumbnail.status).toBe(200);
  expect(new Uint8Array(await thumbnail.arrayBuffer()).subarray(8, 12)).toEqual(new TextEncoder().encode('WEBP'));
  expect(await thumbnailKeyOf(uploaded.uid)).not.toBe(first);
  await expectReleased(first);
});

test('optimization with thumbnails off drops the old thumbnail: unlinked, released, not advertised', async () => {
  const uploaded = await uploadHoliday();
  const first = (await thumbnailKeyOf(uploaded.uid)) as string;

  expect(await optimize(uploaded.uid, false)).toMatchObject({ outcome: 'optimized' });
  const after = await recordOf(uploaded.uid);
  expect(after.originalName).toBe('holiday.jpg');
  expect(after.thumbnailUrl).toBeNull();
  expect(after.metadata.thumbnail).toBeUndefined();
  expect(await thumbnailKeyOf(uploaded.uid)).toBeNull();
  await expectReleased(first);
  const thumbnail = await setup.api.call('GET', `/v1/records/${uploaded.uid}/thumbnail`);
  expect(await errorOf(thumbnail)).toMatchObject({ status: 404, code: 'FILE_NOT_FOUND' });
});

test("a thumbnail that shows another file than the record's (as optimizations used to leave) is not advertised", async () => {
  const uploaded = await uploadHoliday();
  await setup.api.database.db
    .update(records)
    .set({ metadata: sql`${records.metadata} - 'thumbnail'` })
    .where(eq(records.uid, uploaded.uid));
  expect(await thumbnailKeyOf(uploaded.uid)).not.toBeNull();
  expect((await recordOf(uploaded.uid)).thumbnailUrl).toBeNull();
  expect((await setup.api.call('GET', `/v1/records/${uploaded.uid}/thumbnail`)).status).toBe(404);
});
