import { afterAll, beforeAll, expect, test } from 'bun:test';
import { join } from 'node:path';
// Only core and storage: a library user does not pull in the CLI, the API or the worker.
import {
  ALL_USERS,
  autoGenerateFilesForPendingRecords,
  bulkCreateFilesForRecords,
  createFileForRecord,
  RecordRepository,
  userScope,
} from '@mediaforge/core';
import { type Mediaforge, openMediaforge } from '@mediaforge/storage';
import { tempDir } from '../support/cli.ts';

// The seed's function-style API, configured from the environment as a script using it would be.
const home = join(tempDir(), 'home');
const saved = { home: process.env.MEDIAFORGE_HOME, db: process.env.DATABASE_URL, storage: process.env.STORAGE_URL };
let uids: string[] = [];
let mf: Mediaforge;

beforeAll(async () => {
  process.env.MEDIAFORGE_HOME = home;
  delete process.env.DATABASE_URL;
  delete process.env.STORAGE_URL;
  mf = await openMediaforge();
  const created = await new RecordRepository(mf.db).createMany(
    [{ mediaType: 'text' }, { mediaType: 'audio' }, { mediaType: 'image' }, { mediaType: 'text' }],
    ALL_USERS,
  );
  uids = created.map((r) => r.uid);
});

afterAll(async () => {
  await mf.close();
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
  const one = await createFileForRecord({ recordUid: uids[0] as string, fileSizeKb: 3 }, mf);
  expect(one).toMatchObject({ success: true, recordUid: uids[0], outcome: 'uploaded' });
  expect(await Bun.file(join(home, 'objects', one.uploadResult?.key as string)).size).toBe(3 * 1024);

  const progress: number[] = [];
  const bulk = await bulkCreateFilesForRecords(
    [uids[1] as string, 'nope', uids[2] as string],
    { fileSizeKb: 4, onProgress: (p) => progress.push(p.completed) },
    mf,
  );
  expect(bulk.map((r) => r.success)).toEqual([true, false, true]);
  expect(bulk[1]?.error?.code).toBe('INVALID_UID');
  expect(progress.sort()).toEqual([1, 2, 3]);

  // A user's scope sees none of these (they belong to no user).
  const theirs = await autoGenerateFilesForPendingRecords({ limit: 10 }, { ...mf, scope: userScope('someone') });
  expect(theirs.processed).toBe(0);
  const auto = await autoGenerateFilesForPendingRecords({ limit: 10, fileSizeKb: 2 }, mf);
  expect(auto).toMatchObject({ processed: 1, successful: 1, failed: 0 });
  expect(auto.results[0]?.recordUid).toBe(uids[3] as string);
});
