import { expect, test } from 'bun:test';
import { FileProcessingError, InvalidUidError, newUid, RecordNotFoundError, RecordRepository } from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';

describeBackends('records repository', (backend) => {
  const repo = () => new RecordRepository(backend.database().db);

  test('create returns a pending record with defaults', async () => {
    const record = await repo().create({ mediaType: 'audio', title: 'Telugu sample', language: 'te' });
    expect(record).toMatchObject({ mediaType: 'audio', status: 'pending', title: 'Telugu sample', language: 'te' });
    expect(record.storageKey).toBeNull();
    expect(record.metadata).toEqual({});
    expect(record.createdAt).toBeInstanceOf(Date);
  });

  test('create keeps a given uid; get and find read it back', async () => {
    const uid = newUid();
    await repo().create({ uid: uid.toUpperCase(), mediaType: 'image' });
    expect((await repo().get(uid)).uid).toBe(uid);
    expect((await repo().find(uid))?.mediaType).toBe('image');
  });

  test('missing records: find gives null, get throws RecordNotFoundError', async () => {
    const uid = newUid();
    expect(await repo().find(uid)).toBeNull();
    await expect(repo().get(uid)).rejects.toBeInstanceOf(RecordNotFoundError);
  });

  test('invalid uids throw InvalidUidError before touching the database', async () => {
    await expect(repo().get('not-a-uuid')).rejects.toBeInstanceOf(InvalidUidError);
    await expect(repo().create({ uid: 'x', mediaType: 'text' })).rejects.toBeInstanceOf(InvalidUidError);
  });

  test('createMany inserts beyond one statement chunk, all or nothing', async () => {
    const generationId = `bulk-${newUid()}`;
    const created = await repo().createMany(
      Array.from({ length: 2500 }, (_, i) => ({ mediaType: 'text' as const, title: `t${i}`, generationId })),
    );
    expect(created).toHaveLength(2500);
    expect(await repo().count({ generationId })).toBe(2500);

    const broken = `broken-${newUid()}`;
    const duplicate = newUid();
    await expect(
      repo().createMany([
        { uid: duplicate, mediaType: 'text', generationId: broken },
        { uid: duplicate, mediaType: 'text', generationId: broken },
      ]),
    ).rejects.toThrow();
    expect(await repo().count({ generationId: broken })).toBe(0);
  });

  test('invalid input is a typed validation error', async () => {
    const error = await repo()
      .create({ mediaType: 'hologram' as never })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileProcessingError);
    expect((error as FileProcessingError).code).toBe('VALIDATION_ERROR');
  });

  test('list filters by status, type, user, generation and missing file', async () => {
    const userId = `user-${newUid()}`;
    const [a, b, c] = await repo().createMany([
      { mediaType: 'audio', userId },
      { mediaType: 'video', userId },
      { mediaType: 'audio', userId },
    ]);
    if (!a || !b || !c) throw new Error('insert failed');
    await repo().updateFile(c.uid, {
      fileUrl: 'file:///x/audio/c.mp3',
      fileName: `${c.uid}.mp3`,
      fileSize: 10,
      contentType: 'audio/mpeg',
      sha256: 'ab'.repeat(32),
      storageKey: `audio/${c.uid}.mp3`,
      source: 'generated',
    });
    const uids = async (filter: Parameters<RecordRepository['list']>[0]) =>
      (await repo().list({ userId, ...filter })).items.map((r) => r.uid);
    expect(await uids({})).toEqual([a.uid, b.uid, c.uid]);
    expect(await uids({ mediaType: 'audio' })).toEqual([a.uid, c.uid]);
    expect(await uids({ withoutFile: true })).toEqual([a.uid, b.uid]);
    expect(await uids({ status: 'uploaded' })).toEqual([c.uid]);
    expect(await uids({ generationId: 'nothing' })).toEqual([]);
  });

  test('keyset pagination visits every record exactly once', async () => {
    const userId = `pager-${newUid()}`;
    const created = await repo().createMany(Array.from({ length: 23 }, () => ({ mediaType: 'text' as const, userId })));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await repo().list({ userId, limit: 5, cursor });
      seen.push(...page.items.map((r) => r.uid));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(5);
    expect(seen).toEqual(created.map((r) => r.uid));
  });

  test('a tampered cursor is a typed error', async () => {
    const error = await repo()
      .list({ cursor: 'garbage' })
      .catch((e: unknown) => e);
    expect((error as FileProcessingError).code).toBe('INVALID_CURSOR');
  });

  test('updateFile sets every file field and uploaded status in one statement', async () => {
    const record = await repo().create({ mediaType: 'image' });
    const before = record.updatedAt.getTime();
    await Bun.sleep(5);
    const updated = await repo().updateFile(record.uid, {
      fileUrl: 'https://cdn/x.jpg',
      fileName: `${record.uid}.jpg`,
      fileSize: 12345,
      contentType: 'image/jpeg',
      sha256: 'cd'.repeat(32),
      storageKey: `image/${record.uid}.jpg`,
      source: 'url',
      sourceUrl: 'https://origin/x.jpg',
      metadata: { width: 10, height: 20 },
    });
    expect(updated).toMatchObject({
      status: 'uploaded',
      fileSize: 12345,
      storageKey: `image/${record.uid}.jpg`,
      source: 'url',
      metadata: { width: 10, height: 20 },
      error: null,
    });
    expect(updated.updatedAt.getTime()).toBeGreaterThan(before);
    await expect(repo().updateFile(newUid(), { ...updated } as never)).rejects.toBeInstanceOf(RecordNotFoundError);
  });
});
