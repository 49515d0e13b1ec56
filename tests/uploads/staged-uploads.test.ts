/**
 * The staged-upload statements in the core: a TUS upload id is found only in its owner's scope, and a completion
 * whose process died (left in `completing`) is swept once stuck past its bound, never while it may still be live.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { join } from 'node:path';
import {
  ALL_USERS,
  type Database,
  findTusUpload,
  insertStagedUpload,
  newUid,
  openDatabase,
  stagedUploads,
  sweepDirectUploads,
  userScope,
} from '@mediaforge/core';
import { createFileStore } from '@mediaforge/storage';
import { eq, sql } from 'drizzle-orm';
import { tempDir } from '../support/cli.ts';

let database: Database;
beforeAll(async () => {
  database = await openDatabase();
  await database.migrate();
});
afterAll(() => database.close());

const stage = (kind: 'tus' | 'token', userId: string, stagingKey: string) =>
  insertStagedUpload(database.db, {
    id: newUid(),
    kind,
    recordUid: newUid(),
    userId,
    stagingKey,
    maxSize: 1024,
    expiresAt: new Date(Date.now() + 3_600_000),
  });

test("findTusUpload: another user's upload id is not found; the owner and an admin scope find it", async () => {
  const key = `tus-${newUid()}`;
  await stage('tus', 'alice', key);
  expect(await findTusUpload(database.db, key, userScope('bob'))).toBeUndefined();
  expect((await findTusUpload(database.db, key, userScope('alice')))?.userId).toBe('alice');
  expect((await findTusUpload(database.db, key, ALL_USERS))?.userId).toBe('alice');
});

test('a completion stuck past its bound is swept with its bytes; a recent one is left alone', async () => {
  const store = createFileStore({ root: join(tempDir('mediaforge-staged-'), 'objects') });
  const stuck = await stage('token', 'alice', `staging/${newUid()}`);
  const live = await stage('token', 'alice', `staging/${newUid()}`);
  for (const row of [stuck, live]) {
    await store.put(row.stagingKey, new Uint8Array([1, 2, 3]), { contentType: 'application/octet-stream' });
    await database.db.update(stagedUploads).set({ state: 'completing' }).where(eq(stagedUploads.id, row.id));
  }
  // The process completing `stuck` died 31 minutes ago; `live` moved to completing just now.
  await database.db
    .update(stagedUploads)
    .set({ updatedAt: sql`now() - interval '31 minutes'` })
    .where(eq(stagedUploads.id, stuck.id));
  expect(await sweepDirectUploads(database.db, store, 60_000, 30 * 60_000)).toBe(1);
  const left = await database.db.select().from(stagedUploads).where(eq(stagedUploads.kind, 'token'));
  expect(left.map((row) => row.id)).toEqual([live.id]);
  expect(await store.head(stuck.stagingKey)).toBeNull();
  expect(await store.head(live.stagingKey)).not.toBeNull();
});
