import { expect, test } from 'bun:test';
import {
  ALL_USERS,
  asDatabaseError,
  FileProcessingError,
  InvalidUidError,
  newUid,
  objects,
  postgresRecordReader,
  RecordNotFoundError,
  RecordRepository,
  records,
  userScope,
} from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import { eq } from 'drizzle-orm';

describeBackends('records repository', (backend) => {
  const repo = () => new RecordRepository(backend.database().db);

  test('create returns a pending record with defaults', async () => {
    const record = await repo().create({ mediaType: 'audio', title: 'Telugu sample', language: 'te' }, ALL_USERS);
    expect(record).toMatchObject({ mediaType: 'audio', status: 'pending', title: 'Telugu sample', language: 'te' });
    expect(record.storageKey).toBeNull();
    expect(record.metadata).toEqual({});
    expect(record.createdAt).toBeInstanceOf(Date);
  });

  test('create keeps a given uid; get and find read it back', async () => {
    const uid = newUid();
    await repo().create({ uid: uid.toUpperCase(), mediaType: 'image' }, ALL_USERS);
    expect((await repo().get(uid, ALL_USERS)).uid).toBe(uid);
    expect((await repo().find(uid, ALL_USERS))?.mediaType).toBe('image');
  });

  test("a read by uid gives drizzle's row exactly, every column filled or null (PostgreSQL reads it directly)", async () => {
    const db = backend.database().db;
    const bare = await repo().create({ mediaType: 'video' }, ALL_USERS);
    const full = await repo().create({ mediaType: 'video', title: 'full', language: 'te', userId: 'u1' }, ALL_USERS);
    const key = `by-uid/${full.uid}`;
    await db
      .insert(objects)
      .values({ key, sha256: 'a'.repeat(64), size: 2 ** 40 + 3, contentType: 'video/mp4', refs: 1 });
    await db
      .update(records)
      .set({
        status: 'uploaded',
        fileUrl: 'https://cdn.example/x.mp4',
        fileName: 'x.mp4',
        fileSize: 2 ** 40 + 3,
        contentType: 'video/mp4',
        sha256: 'a'.repeat(64),
        storageKey: key,
        thumbnailKey: key,
        source: 'url',
        sourceUrl: 'https://example.com/x.mp4',
        generationId: 'g1',
        metadata: { nested: { list: [1, 'two', null] }, n: 1.5 },
        mediaInfo: { format: 'mp4', streams: [] } as never,
        width: 1920,
        height: 1080,
        durationSeconds: 12.345,
        originalName: 'Ünïcode name.mp4',
        error: 'none',
        claimToken: crypto.randomUUID(),
        updatedAt: new Date('2026-01-02T03:04:05.678Z'),
      })
      .where(eq(records.uid, full.uid));
    for (const uid of [bare.uid, full.uid]) {
      const [viaDrizzle] = await db.select().from(records).where(eq(records.uid, uid));
      expect(await repo().get(uid, ALL_USERS)).toEqual(viaDrizzle as never);
      const direct = postgresRecordReader(db);
      if (backend.kind === 'postgres') expect(await direct?.(uid)).toEqual(viaDrizzle as never);
      else expect(direct).toBeUndefined();
    }
    expect(await postgresRecordReader(db)?.(newUid())).toBeUndefined();
  });

  test('missing records: find gives null, get throws RecordNotFoundError', async () => {
    const uid = newUid();
    expect(await repo().find(uid, ALL_USERS)).toBeNull();
    await expect(repo().get(uid, ALL_USERS)).rejects.toBeInstanceOf(RecordNotFoundError);
  });

  test('invalid uids throw InvalidUidError before touching the database', async () => {
    await expect(repo().get('not-a-uuid', ALL_USERS)).rejects.toBeInstanceOf(InvalidUidError);
    await expect(repo().create({ uid: 'x', mediaType: 'text' }, ALL_USERS)).rejects.toBeInstanceOf(InvalidUidError);
  });

  test('createMany inserts beyond one statement chunk, all or nothing', async () => {
    const generationId = `bulk-${newUid()}`;
    const created = await repo().createMany(
      Array.from({ length: 2500 }, (_, i) => ({ mediaType: 'text' as const, title: `t${i}`, generationId })),
      ALL_USERS,
    );
    expect(created).toHaveLength(2500);
    expect(await repo().count(ALL_USERS, { generationId })).toBe(2500);

    const broken = `broken-${newUid()}`;
    const duplicate = newUid();
    await expect(
      repo().createMany(
        [
          { uid: duplicate, mediaType: 'text', generationId: broken },
          { uid: duplicate, mediaType: 'text', generationId: broken },
        ],
        ALL_USERS,
      ),
    ).rejects.toThrow();
    expect(await repo().count(ALL_USERS, { generationId: broken })).toBe(0);
  });

  test('invalid input is a typed validation error', async () => {
    const error = await repo()
      .create({ mediaType: 'hologram' as never }, ALL_USERS)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileProcessingError);
    expect((error as FileProcessingError).code).toBe('VALIDATION_ERROR');
  });

  test('text that is not valid Unicode (a lone surrogate) is INVALID_INPUT, never stored as U+FFFD', async () => {
    const generationId = `lone-${newUid()}`;
    // Inside createMany's transaction, on both drivers.
    for (const input of [{ title: 'a\ud800b' }, { language: '\udc00' }, { generationId: `${generationId}\ud83d` }]) {
      const error = await repo()
        .create({ mediaType: 'audio', generationId, ...input }, ALL_USERS)
        .catch((e: unknown) => e);
      const typed = asDatabaseError(error);
      expect(typed).toMatchObject({ code: 'INVALID_INPUT', transient: false });
      expect(typed?.message).toContain('valid Unicode');
    }
    const metadata = await repo()
      .create({ mediaType: 'audio', generationId, metadata: { note: 'x\ud800' } }, ALL_USERS)
      .catch((e: unknown) => e);
    expect(metadata).toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(String((metadata as Error).message)).toContain('valid Unicode');
    expect(await repo().count(ALL_USERS, { generationId })).toBe(0);
    // A surrogate pair is a character like any other.
    const ok = await repo().create({ mediaType: 'audio', generationId, title: 'ok \ud83d\ude00' }, ALL_USERS);
    expect(ok.title).toBe('ok \u{1F600}');
  });

  test('list filters by status, type, user, generation and missing file', async () => {
    const userId = `user-${newUid()}`;
    const [a, b, c] = await repo().createMany(
      [
        { mediaType: 'audio', userId },
        { mediaType: 'video', userId },
        { mediaType: 'audio', userId },
      ],
      ALL_USERS,
    );
    if (!a || !b || !c) throw new Error('insert failed');
    const { db } = backend.database();
    const key = `audio/${c.uid}.mp3`;
    await db.insert(objects).values({ key, sha256: 'ab'.repeat(32), size: 10, contentType: 'audio/mpeg', refs: 1 });
    await db.update(records).set({ storageKey: key, status: 'uploaded' }).where(eq(records.uid, c.uid));
    const uids = async (filter: Parameters<RecordRepository['list']>[1]) =>
      (await repo().list(ALL_USERS, { userId, ...filter })).items.map((r) => r.uid);
    expect(await uids({})).toEqual([a.uid, b.uid, c.uid]);
    expect(await uids({ mediaType: 'audio' })).toEqual([a.uid, c.uid]);
    expect(await uids({ withoutFile: true })).toEqual([a.uid, b.uid]);
    expect(await uids({ status: 'uploaded' })).toEqual([c.uid]);
    expect(await uids({ generationId: 'nothing' })).toEqual([]);
    // A user's scope sees only that user's records; another user's look missing.
    expect((await repo().list(userScope(userId), {})).items).toHaveLength(3);
    expect((await repo().list(userScope('someone-else'), { userId })).items).toEqual([]);
    expect(await repo().find(a.uid, userScope('someone-else'))).toBeNull();
  });

  test('keyset pagination visits every record exactly once', async () => {
    const userId = `pager-${newUid()}`;
    const created = await repo().createMany(
      Array.from({ length: 23 }, () => ({ mediaType: 'text' as const, userId })),
      ALL_USERS,
    );
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await repo().list(ALL_USERS, { userId, limit: 5, cursor });
      seen.push(...page.items.map((r) => r.uid));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(5);
    expect(seen).toEqual(created.map((r) => r.uid));
  });

  test('a tampered cursor is a typed error', async () => {
    const error = await repo()
      .list(ALL_USERS, { cursor: 'garbage' })
      .catch((e: unknown) => e);
    expect((error as FileProcessingError).code).toBe('INVALID_CURSOR');
  });
});
