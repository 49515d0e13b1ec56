/**
 * Group commit (packages/core/src/files/object-batches.ts): files storing at the same time share their database round
 * trips, and every file still gets exactly its own outcome — a bad file fails with its own error, its neighbours are
 * stored, and nothing of the bad one is left half-written.
 */
import { beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addObjectReference,
  type Db,
  insertRecordWithFile,
  newUid,
  objects,
  type PreparedFile,
  records,
  reserveObjectKey,
  sha256Hex,
  storeFile,
  supportedTypeForMime,
  type UserQuotaSettings,
} from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import { createFileStore, type ObjectStore } from '@mediaforge/storage';
import { eq, inArray } from 'drizzle-orm';
import { createBatcher } from '../../packages/core/src/files/batcher.ts';
import {
  type CommitOutcome,
  commitNewRecordBatched,
  type NewRecordCommit,
} from '../../packages/core/src/files/object-batches.ts';

const wav = supportedTypeForMime('audio/wav');

/** A prepared 16-byte "file" of its own content (the store and the database never look inside). */
function preparedFile(seed: string): PreparedFile {
  if (!wav) throw new Error('audio/wav is supported');
  const bytes = new TextEncoder().encode(seed.padEnd(16, '.'));
  const sha256 = sha256Hex(bytes);
  return {
    type: wav,
    body: () => bytes,
    contentType: wav.mime,
    extension: wav.extension,
    size: bytes.byteLength,
    sha256,
    originalSize: bytes.byteLength,
    originalSha256: sha256,
    compressed: false,
    details: {},
  };
}

describe('createBatcher', () => {
  test('calls made while a batch runs go together in the next one; each gets its own outcome', async () => {
    const batches: number[][] = [];
    const batcher = createBatcher<number, number>(async (items) => {
      batches.push([...items]);
      await Bun.sleep(5);
      return items.map((n) => (n === 3 ? { ok: false, error: new Error(`bad ${n}`) } : { ok: true, value: n * 10 }));
    });
    const results = await Promise.allSettled([1, 2, 3, 4].map((n) => batcher(n)));
    expect(batches).toEqual([[1], [2, 3, 4]]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      10,
      20,
      'bad 3',
      40,
    ]);
  });
});

describeBackends('group commit of new records', (backend) => {
  let store: ObjectStore;
  beforeAll(() => {
    store = createFileStore({ root: join(mkdtempSync(join(tmpdir(), 'mediaforge-group-')), 'objects') });
  });
  const db = () => backend.database().db;

  /** A reserved, written object and its new-record commit, whose single form is the plain one-file transaction. */
  async function pending(
    seed: string,
    originalName?: string,
  ): Promise<NewRecordCommit & { alone: () => Promise<CommitOutcome> }> {
    const file = preparedFile(seed);
    const uid = newUid();
    const key = await reserveObjectKey(db(), {
      mediaType: 'audio',
      uid,
      extension: file.extension,
      sha256: file.sha256,
      size: file.size,
      contentType: file.contentType,
      ownerId: null,
    });
    const stored = { storageKey: key, objectUrl: store.objectUrl(key) };
    const target = { uid, userId: null, generationId: null };
    const provenance = { source: 'url' as const, ...(originalName ? { originalName } : {}) };
    return {
      target,
      file,
      stored,
      provenance,
      fresh: true,
      alone: () =>
        db().transaction(async (tx) => {
          const t = tx as unknown as Db;
          if (!(await addObjectReference(t, key))) return { gone: true as const };
          return { record: await insertRecordWithFile(t, target, file, stored, provenance) };
        }),
    };
  }

  test('a batch with one record the database refuses: that file fails alone, the others commit', async () => {
    const items = await Promise.all(
      ['a', 'b', 'c', 'd', 'e'].map((seed) =>
        pending(`ok-${seed}-${newUid()}`, seed === 'c' ? 'nul\u0000name' : undefined),
      ),
    );
    // The first call runs at once; the other four arrive while it is in flight and go as one batch.
    const outcomes = await Promise.allSettled(items.map((item) => commitNewRecordBatched(db(), item)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const uids = items.map((item) => item.target.uid);
    const rows = await db().select({ uid: records.uid }).from(records).where(inArray(records.uid, uids));
    expect(rows.map((r) => r.uid).sort()).toEqual(uids.filter((_, i) => i !== 2).sort());
    const objectRows = await db()
      .select({ key: objects.key, refs: objects.refs, stored: objects.stored })
      .from(objects)
      .where(
        inArray(
          objects.key,
          items.map((item) => item.stored.storageKey),
        ),
      );
    for (const [i, item] of items.entries()) {
      const row = objectRows.find((r) => r.key === item.stored.storageKey);
      // The refused file's object is untouched: unreferenced and unconfirmed, the sweep's to retire.
      expect(row).toMatchObject(i === 2 ? { refs: 0, stored: false } : { refs: 1, stored: true });
    }
  });

  test('a uid that exists already changes nothing in a batch: its reference is given back', async () => {
    const items = await Promise.all(['p', 'q', 'r'].map((seed) => pending(`uid-${seed}-${newUid()}`)));
    const taken = items[2] as NewRecordCommit;
    await db().insert(records).values({ uid: taken.target.uid, mediaType: 'audio' });
    const outcomes = await Promise.all(items.map((item) => commitNewRecordBatched(db(), item)));
    expect(outcomes.map((o) => ('record' in o ? o.record?.uid : 'gone'))).toEqual([
      items[0]?.target.uid,
      items[1]?.target.uid,
      undefined,
    ]);
    const [row] = await db().select().from(objects).where(eq(objects.key, taken.stored.storageKey));
    expect(row).toMatchObject({ refs: 0, stored: false, state: 'live' });
    const [record] = await db().select().from(records).where(eq(records.uid, taken.target.uid));
    expect(record?.storageKey ?? null).toBeNull();
  });

  test("a batch's object being retired meanwhile: that file is told so, the others commit and are referenced", async () => {
    const items = await Promise.all(['x', 'y', 'z'].map((seed) => pending(`gone-${seed}-${newUid()}`)));
    const retiring = (items[1] as NewRecordCommit).stored.storageKey;
    await db().update(objects).set({ state: 'deleting' }).where(eq(objects.key, retiring));
    const outcomes = await Promise.all(items.map((item) => commitNewRecordBatched(db(), item)));
    expect(outcomes.map((o) => ('gone' in o ? 'gone' : o.record?.uid))).toEqual([
      items[0]?.target.uid,
      'gone',
      items[2]?.target.uid,
    ]);
    const rows = await db()
      .select({ key: objects.key, refs: objects.refs })
      .from(objects)
      .where(
        inArray(
          objects.key,
          items.map((item) => item.stored.storageKey),
        ),
      );
    expect(Object.fromEntries(rows.map((row) => [row.key, row.refs]))).toEqual({
      [items[0]?.stored.storageKey as string]: 1,
      [retiring]: 0,
      [items[2]?.stored.storageKey as string]: 1,
    });
    expect(
      await db()
        .select()
        .from(records)
        .where(eq(records.uid, items[1]?.target.uid as string)),
    ).toEqual([]);
  });

  test('the records a batch returns are the rows as the database holds them, every column decoded', async () => {
    const items = await Promise.all(
      ['m', 'n', 'o'].map((seed, i) =>
        pending(`cols-${seed}-${newUid()}`, i === 1 ? 'naïve "name" 🎵.wav' : undefined),
      ),
    );
    const details = { durationSeconds: 1.5e-7, width: 640, height: 480, codec: 'pcm', tags: { 'a"b': 'c\\d' } };
    for (const item of items) Object.assign(item.file, { details });
    Object.assign(items[2] as NewRecordCommit, {
      target: { ...(items[2] as NewRecordCommit).target, userId: `u-${newUid()}`, generationId: 'gen-1' },
      provenance: {
        source: 'url',
        sourceUrl: 'https://example.com/x.wav',
        metadata: { deep: { list: [1, null, 'x'] } },
      },
    });
    const outcomes = await Promise.all(items.map((item) => commitNewRecordBatched(db(), item)));
    for (const [i, outcome] of outcomes.entries()) {
      const returned = 'record' in outcome ? outcome.record : undefined;
      const [held] = await db()
        .select()
        .from(records)
        .where(eq(records.uid, items[i]?.target.uid as string));
      expect(returned).toEqual(held);
      expect(held?.durationSeconds).toBe(1.5e-7);
      expect(held?.createdAt).toBeInstanceOf(Date);
    }
    expect((outcomes[1] as { record: { originalName: string } }).record.originalName).toBe('naïve "name" 🎵.wav');
    expect((outcomes[2] as { record: { metadata: unknown } }).record.metadata).toMatchObject({
      deep: { list: [1, null, 'x'] },
    });
  });

  /** Each file stored at the same moment as a new record of `userId`, as a batch of URL ingests would. */
  const storeAllAtOnce = (
    files: PreparedFile[],
    options: { userId: string | null; name: (index: number) => string; quota?: UserQuotaSettings },
  ) =>
    Promise.allSettled(
      files.map((file, i) =>
        storeFile(
          file,
          { create: { uid: newUid(), userId: options.userId, generationId: null } },
          { source: 'url', originalName: options.name(i) },
          { db: db(), store, ...(options.quota ? { settings: { quota: options.quota } } : {}) },
        ),
      ),
    );

  test('concurrent storeFile calls: a file whose record is refused fails with its own error; nothing of it stays', async () => {
    const files = Array.from({ length: 12 }, (_, i) => preparedFile(`store-${i}-${newUid()}`));
    const outcomes = await storeAllAtOnce(files, {
      userId: null,
      name: (i) => (i === 7 ? 'bad\u0000name' : `f${i}.wav`),
    });
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(1);
    expect(outcomes[7]?.status).toBe('rejected');
    const stored = outcomes.flatMap((o) => (o.status === 'fulfilled' && o.value.record ? [o.value] : []));
    expect(stored).toHaveLength(11);
    for (const s of stored) expect(await store.head(s.object.storageKey)).not.toBeNull();
    // The refused file's object was retired and its bytes removed.
    const [bad] = await db()
      .select()
      .from(objects)
      .where(eq(objects.sha256, (files[7] as PreparedFile).sha256));
    expect(bad?.state).toBe('deleted');
    expect(await store.head(bad?.key ?? '')).toBeNull();
  });

  test('concurrent new records of one user stop at USER_MAX_RECORDS exactly, batched or not (third attacker, F9)', async () => {
    const owner = `capped-${newUid()}`;
    const quota = { storageBytes: 0, maxRecords: 5 };
    const files = Array.from({ length: 24 }, (_, i) => preparedFile(`cap-${i}-${newUid()}`));
    const outcomes = await storeAllAtOnce(files, { userId: owner, name: (i) => `c${i}.wav`, quota });
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as { code?: string }] : []));
    expect(refused.length).toBe(files.length - quota.maxRecords);
    for (const error of refused) expect(error.code).toBe('QUOTA_EXCEEDED');
    expect(await db().select().from(records).where(eq(records.userId, owner))).toHaveLength(quota.maxRecords);
  });
});
