/**
 * Thumbnails from every source, not only uploads: URL ingest and the record file generator make one when asked
 * (workers and `serve` ask; the CLI quick path does not), and leave records alone when not asked.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ALL_USERS,
  currentThumbnailKey,
  type Database,
  loadSettings,
  openDatabase,
  processUrl,
  RecordFileGenerator,
  RecordRepository,
  type Settings,
} from '@mediaforge/core';
import { createFileStore, type ObjectStore } from '@mediaforge/storage';
import { FIXTURES } from '../api/support.ts';

describe('thumbnails from URL ingest and generation', () => {
  let database: Database;
  let settings: Settings;
  let store: ObjectStore;
  const origin = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: (request) => new Response(Bun.file(join(FIXTURES, new URL(request.url).pathname.slice(1)))),
  });
  beforeAll(async () => {
    const home = mkdtempSync(join(tmpdir(), 'mediaforge-thumb-sources-'));
    settings = loadSettings({ env: { MEDIAFORGE_HOME: home, LOG_LEVEL: 'silent' } });
    store = createFileStore({ root: join(home, 'objects') });
    database = await openDatabase();
    await database.migrate();
  });
  afterAll(async () => {
    origin.stop(true);
    await database?.close();
  });

  const ingest = (name: string, thumbnails: boolean) =>
    processUrl(`http://127.0.0.1:${origin.port}/${name}`, {
      db: database.db,
      store,
      settings,
      policy: { allowPrivate: true, allowHosts: [] },
      thumbnails,
    });

  test('URL ingest: a thumbnail when asked, none otherwise', async () => {
    const records = new RecordRepository(database.db);
    const withThumb = await records.get((await ingest('fixture.jpg', true)).recordUid, ALL_USERS);
    const key = currentThumbnailKey(withThumb);
    expect(key).toStartWith(`thumbnails/${withThumb.uid}.`);
    expect((await store.head(key as string))?.contentType).toBe('image/webp');
    const without = await records.get((await ingest('fixture.png', false)).recordUid, ALL_USERS);
    expect(without.thumbnailKey).toBeNull();
  });

  test('the generator: images and videos get one when asked; audio and text never', async () => {
    const records = new RecordRepository(database.db);
    const made = await records.createMany(
      (['image', 'video', 'audio', 'text'] as const).map((mediaType) => ({ mediaType })),
      ALL_USERS,
    );
    const generator = new RecordFileGenerator({ db: database.db, store, settings, scope: ALL_USERS, thumbnails: true });
    for (const record of made) expect((await generator.processRecord(record.uid)).outcome).toBe('uploaded');
    const after = await Promise.all(made.map((record) => records.get(record.uid, ALL_USERS)));
    expect(after.map((record) => currentThumbnailKey(record) !== undefined)).toEqual([true, true, false, false]);
  });
});
