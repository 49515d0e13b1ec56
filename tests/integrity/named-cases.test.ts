/**
 * Issue 17's named cases, each a plain test that fails on the old design (keys rewritten in place, objects deleted
 * with one of several records, ownership checked only in routes, size checked after the claim).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import {
  ALL_USERS,
  deleteRecord,
  objects,
  RecordFileGenerator,
  RecordRepository,
  readAll,
  sha256Hex,
  storeUpload,
  TaskManager,
  userScope,
} from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import type { ObjectStore } from '@mediaforge/storage';
import { eq } from 'drizzle-orm';
import { bytesOf, storageViolations, storedSha, storeFor, streamOf, testSettings, writeOnce } from './support.ts';

const alice = userScope('alice');
const bob = userScope('bob');

describeBackends('integrity: named cases', (backend) => {
  let base: ObjectStore;
  let close = async () => {};
  let repository: RecordRepository;
  const settings = testSettings();
  let checked: ReturnType<typeof writeOnce>;

  beforeAll(async () => {
    ({ store: base, close } = await storeFor(backend.kind));
    repository = new RecordRepository(backend.database().db);
    checked = writeOnce(base);
  });
  afterAll(() => close());

  const db = () => backend.database().db;
  const upload = (uid: string, bytes: Uint8Array, scope = alice, replace = false) =>
    storeUpload(uid, streamOf(bytes), { db: db(), store: checked.store, settings, scope, replace, compress: false });
  const generator = (scope = alice, maxFileSizeBytes = settings.maxFileSizeBytes) =>
    new RecordFileGenerator({ db: db(), store: checked.store, settings: { ...settings, maxFileSizeBytes }, scope });
  const create = async (mediaType: 'audio' | 'text' | 'image', scope = alice, uid?: string) =>
    (await repository.create({ mediaType, ...(uid ? { uid } : {}) }, scope)).uid;
  const objectRow = async (key: string) => (await db().select().from(objects).where(eq(objects.key, key)))[0];

  test('(a) R2 shares R1’s object; replacing R1 twice leaves R2 serving its own bytes', async () => {
    const [wav, mp3, flac] = await Promise.all([
      bytesOf('fixture.wav'),
      bytesOf('fixture.mp3'),
      bytesOf('fixture.flac'),
    ]);
    const r1 = await create('audio');
    const r2 = await create('audio');
    const first = await upload(r1, wav);
    const second = await upload(r2, wav);
    expect(second.duplicateOf).toBe(r1);
    expect(second.record.storageKey).toBe(first.record.storageKey);
    await upload(r1, mp3, alice, true);
    await upload(r1, flac, alice, true);
    const r2Now = await repository.get(r2, alice);
    expect(r2Now.sha256).toBe(sha256Hex(wav));
    expect(await storedSha(base, r2Now.storageKey as string)).toBe(sha256Hex(wav));
    const r1Now = await repository.get(r1, alice);
    expect(await storedSha(base, r1Now.storageKey as string)).toBe(sha256Hex(flac));
    // The mp3 in between had only R1: it is gone.
    const mp3Keys = checked.written.filter((k) => k.startsWith(`audio/${r1}`) && k.endsWith('.mp3'));
    expect(mp3Keys).toHaveLength(1);
    expect(await base.head(mp3Keys[0] as string)).toBeNull();
    expect((await objectRow(mp3Keys[0] as string))?.state).toBe('deleted');
  });

  test('(b) force-regenerating R5 never overwrites the object R6 shares', async () => {
    const r5 = await create('audio');
    const r6 = await create('audio');
    const generated = await generator().generate(r5, { fileSizeKb: 15 });
    const key5 = generated.uploadResult?.key as string;
    const bytes = await readAll((await base.get(key5))?.body as ReadableStream<Uint8Array>);
    const shared = await upload(r6, bytes);
    expect(shared.duplicateOf).toBe(r5);
    expect(shared.record.storageKey).toBe(key5);
    const regenerated = await generator().generate(r5, { force: true, fileSizeKb: 20 });
    expect(regenerated.uploadResult?.key).not.toBe(key5);
    const r6Now = await repository.get(r6, alice);
    expect(r6Now.storageKey).toBe(key5);
    expect(await storedSha(base, key5)).toBe(sha256Hex(bytes));
    expect(r6Now.sha256).toBe(sha256Hex(bytes));
    expect((await objectRow(key5))?.refs).toBe(1);
  });

  test('(c) alice deletes R3 (shared with R4); bob re-creates R3’s uid and uploads: R4 still serves P', async () => {
    const [p, q] = await Promise.all([bytesOf('fixture.png'), bytesOf('fixture.jpg')]);
    const r3 = await create('image');
    const r4 = await create('image');
    await upload(r3, p);
    expect((await upload(r4, p)).duplicateOf).toBe(r3);
    const { objectDeleted } = await deleteRecord(db(), checked.store, r3, alice);
    expect(objectDeleted).toBe(false);
    expect(await create('image', bob, r3)).toBe(r3);
    const bobs = await upload(r3, q, bob);
    expect(bobs.record.userId).toBe('bob');
    const r4Now = await repository.get(r4, alice);
    expect(bobs.record.storageKey).not.toBe(r4Now.storageKey);
    expect(await storedSha(base, r4Now.storageKey as string)).toBe(sha256Hex(p));
    expect(await storedSha(base, bobs.record.storageKey as string)).toBe(sha256Hex(q));
    // bob's content that alice also has is not shared across owners either.
    const r4Bob = await create('image', bob);
    expect((await upload(r4Bob, p, bob)).duplicateOf).toBeUndefined();
  });

  test('(d) force-regenerating an uploaded .wav record as .mp3 leaves no orphan', async () => {
    // carol has no other copy of these bytes, so the .wav object is this record's alone.
    const carol = userScope('carol');
    const uid = await create('audio', carol);
    const uploaded = await upload(uid, await bytesOf('fixture.wav'), carol);
    const wavKey = uploaded.record.storageKey as string;
    expect(wavKey.endsWith('.wav')).toBe(true);
    const regenerated = await generator(carol).generate(uid, { force: true, fileSizeKb: 16 });
    expect(regenerated.uploadResult?.key.endsWith('.mp3')).toBe(true);
    expect(await base.head(wavKey)).toBeNull();
    expect((await objectRow(wavKey))?.state).toBe('deleted');
    expect((await objectRow(wavKey))?.refs).toBe(0);
    const keys = (await base.list(`audio/${uid}`)).items.map((i) => i.key);
    expect(keys).toEqual([regenerated.uploadResult?.key as string]);
  });

  test('(e) bob cannot queue generation of alice’s records, by uid or by auto', async () => {
    const tasks = new TaskManager({ database: backend.database(), settings });
    const alicePending = await create('text');
    await expect(tasks.queueRecordGeneration({ uids: [alicePending], force: true, scope: bob })).rejects.toMatchObject({
      code: 'RECORD_NOT_FOUND',
    });
    // A uid that exists nowhere gets the very same answer.
    await expect(
      tasks.queueRecordGeneration({ uids: [crypto.randomUUID()], force: true, scope: bob }),
    ).rejects.toMatchObject({ code: 'RECORD_NOT_FOUND' });
    const bobPending = await create('text', bob);
    const taskId = await tasks.queueRecordGeneration({ auto: { limit: 100 }, scope: bob });
    const items = (await tasks.listItems(taskId, bob)).items;
    const uids = items.map((i) => (i.payload as { uid: string }).uid);
    expect(uids).toContain(bobPending);
    expect(uids).not.toContain(alicePending);
    const aliceUids = new Set((await repository.list(alice, { limit: 1000 })).items.map((r) => r.uid));
    expect(uids.filter((u) => aliceUids.has(u))).toEqual([]);
    await tasks.cancelTask(taskId, bob);
    // alice cannot see bob's task.
    await expect(tasks.getTaskStatus(taskId, alice)).rejects.toMatchObject({ code: 'TASK_NOT_FOUND' });
  });

  test('(f) an invalid size leaves the record exactly as it was', async () => {
    const empty = await create('audio');
    const withFile = await create('audio');
    await generator().generate(withFile, { fileSizeKb: 12 });
    for (const uid of [empty, withFile]) {
      const before = await repository.get(uid, alice);
      for (const fileSizeKb of [0.3, 0, -1, Number.NaN]) {
        await expect(generator().generate(uid, { force: true, fileSizeKb })).rejects.toMatchObject({
          code: 'INVALID_SIZE',
        });
      }
      await expect(generator(alice, 64 * 1024).generate(uid, { force: true, fileSizeKb: 65 })).rejects.toMatchObject({
        code: 'FILE_SIZE_EXCEEDED',
      });
      expect(await repository.get(uid, alice)).toEqual(before);
    }
  });

  test('(g) write-once: across replaces and regenerations every key is new', async () => {
    const uid = await create('text');
    const texts = ['one\n', 'two\n', 'one\n', 'three\n'].map((t) => new TextEncoder().encode(t));
    const keys: string[] = [];
    const start = checked.written.length;
    for (const [i, bytes] of texts.entries()) {
      keys.push((await upload(uid, bytes, alice, i > 0)).record.storageKey as string);
    }
    keys.push((await generator().generate(uid, { force: true, fileSizeKb: 3 })).uploadResult?.key as string);
    keys.push((await generator().generate(uid, { force: true, fileSizeKb: 4 })).uploadResult?.key as string);
    expect(new Set(keys).size).toBe(keys.length);
    const mine = checked.written.slice(start);
    expect(new Set(mine).size).toBe(mine.length);
    expect(checked.rewritten).toEqual([]);
    // Only the last one is left in the store for this record.
    expect((await base.list(`text/${uid}`)).items.map((i) => i.key)).toEqual([keys.at(-1) as string]);
    expect((await repository.get(uid, ALL_USERS)).storageKey).toBe(keys.at(-1) as string);
  });

  test('after all the cases: no key was written twice and the storage invariants hold', async () => {
    expect(checked.rewritten).toEqual([]);
    expect(await storageViolations(db(), base)).toEqual([]);
  });
});
