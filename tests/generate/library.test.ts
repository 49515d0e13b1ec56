import { afterAll, beforeAll, expect, test } from 'bun:test';
import { join } from 'node:path';
import {
  autoGenerateFilesForPendingRecords,
  bulkCreateFilesForRecords,
  createFileForRecord,
  loadSettings,
  openDatabaseFromSettings,
  RecordRepository,
} from '@mediaforge/cli';
import { ALL_USERS } from '@mediaforge/core';
import { tempDir } from '../support/cli.ts';

// The seed's function-style API, configured from the environment as a script using it would be.
const home = join(tempDir(), 'home');
const saved = { home: process.env.MEDIAFORGE_HOME, db: process.env.DATABASE_URL, storage: process.env.STORAGE_URL };
let uids: string[] = [];

beforeAll(async () => {
  process.env.MEDIAFORGE_HOME = home;
  delete process.env.DATABASE_URL;
  delete process.env.STORAGE_URL;
  const database = await openDatabaseFromSettings(loadSettings());
  const created = await new RecordRepository(database.db).createMany(
    [{ mediaType: 'text' }, { mediaType: 'audio' }, { mediaType: 'image' }, { mediaType: 'text' }],
    ALL_USERS,
  );
  uids = created.map((r) => r.uid);
  await database.close();
});

afterAll(() => {
  for (const [name, value] of [
    ['MEDIAFORGE_HOME', saved.home],
    ['DATABASE_URL', saved.db],
    ['STORAGE_URL', saved.storage],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

test('createFileForRecord, bulkCreateFilesForRecords and autoGenerateFilesForPendingRecords', async () => {
  const one = await createFileForRecord({ recordUid: uids[0] as string, fileSizeKb: 3 });
  expect(one).toMatchObject({ success: true, recordUid: uids[0], outcome: 'uploaded' });
  expect(await Bun.file(join(home, 'objects', one.uploadResult?.key as string)).size).toBe(3 * 1024);

  const progress: number[] = [];
  const bulk = await bulkCreateFilesForRecords([uids[1] as string, 'nope', uids[2] as string], {
    fileSizeKb: 4,
    onProgress: (p) => progress.push(p.completed),
  });
  expect(bulk.map((r) => r.success)).toEqual([true, false, true]);
  expect(bulk[1]?.error?.code).toBe('INVALID_UID');
  expect(progress.sort()).toEqual([1, 2, 3]);

  const auto = await autoGenerateFilesForPendingRecords({ limit: 10, fileSizeKb: 2 });
  expect(auto).toMatchObject({ processed: 1, successful: 1, failed: 0 });
  expect(auto.results[0]?.recordUid).toBe(uids[3] as string);
});
