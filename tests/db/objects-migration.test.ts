// The objects migration on a database that already has files: every stored key becomes an object, counted once per
// record that points at it (shared by dedupe), and a claim taken before claim tokens existed is released.
import { expect, test } from 'bun:test';
import { openDatabase } from '@mediaforge/core';
import { migrationSteps } from './migration-steps.ts';

test('existing records keep their files: objects made from them, refs counted, old claims released', async () => {
  const database = await openDatabase(); // in-memory PGlite, not migrated
  const { files, exec, apply } = migrationSteps(database);
  const objectsMigration = files.findIndex((name) => name.includes('objects'));
  expect(objectsMigration).toBeGreaterThan(0);
  try {
    await apply(files.slice(0, objectsMigration));
    const key = 'audio/01a20000-0000-7000-8000-000000000001.mp3';
    await exec(`
      insert into records (uid, media_type, status, storage_key, sha256, file_size, content_type, user_id) values
        ('01a20000-0000-7000-8000-000000000001', 'audio', 'uploaded', '${key}', 'aa', 10, 'audio/mpeg', 'alice'),
        ('01a20000-0000-7000-8000-000000000002', 'audio', 'uploaded', '${key}', 'aa', 10, 'audio/mpeg', 'alice'),
        ('01a20000-0000-7000-8000-000000000003', 'text', 'processing', null, null, null, null, 'bob');
    `);
    await apply(files.slice(objectsMigration));
    const objects = await exec<{ key: string; refs: number; state: string; stored: boolean; owner_id: string }>(
      'select key, refs, state, stored, owner_id from objects',
    );
    expect(objects).toEqual([{ key, refs: 2, state: 'live', stored: true, owner_id: 'alice' }]);
    const claimed = await exec<{ status: string }>(
      `select status from records where uid = '01a20000-0000-7000-8000-000000000003'`,
    );
    expect(claimed[0]?.status).toBe('pending');
    // The foreign key holds: a record cannot point at a key no object has.
    await expect(
      exec(`update records set storage_key = 'audio/nothing.mp3' where uid = '01a20000-0000-7000-8000-000000000002'`),
    ).rejects.toThrow();
  } finally {
    await database.close();
  }
});
