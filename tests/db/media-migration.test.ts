// The media metadata migration on a database that already has files: metadata.media becomes typed columns and
// media_info, upload names become original names (sanitised), and hostile or pending rows cannot break it.
import { expect, test } from 'bun:test';
import { openDatabase } from '@mediaforge/core';
import { migrationSteps } from './migration-steps.ts';

test('stored files get typed media columns from metadata.media; pending and hostile rows are safe', async () => {
  const database = await openDatabase(); // in-memory PGlite, not migrated
  const { files, exec, apply } = migrationSteps(database);
  const mine = files.findIndex((name) => name.includes('media_metadata'));
  expect(mine).toBeGreaterThan(0);
  const uid = (n: number) => `01a20000-0000-7000-8000-00000000000${n}`;
  try {
    await apply(files.slice(0, mine));
    const video = JSON.stringify({
      media: { width: 96, height: 64, durationSeconds: 1.5, codec: 'avc1', tracks: { video: 1, audio: 0 } },
      upload: { fileName: 'my\u0007 clip".mp4' },
      title: 'kept',
    });
    const hostile = JSON.stringify({ media: { width: 'wide', height: 1e20, durationSeconds: '3' } });
    const pending = JSON.stringify({ media: { width: 100 } });
    await exec(`
      insert into objects (key, sha256, size, content_type, refs, stored) values
        ('video/a.mp4', 'aa', 10, 'video/mp4', 1, true), ('video/b.mp4', 'bb', 10, 'video/mp4', 1, true)
    `);
    await exec(`
      insert into records (uid, media_type, status, storage_key, metadata) values
        ('${uid(1)}', 'video', 'uploaded', 'video/a.mp4', '${video}'),
        ('${uid(2)}', 'video', 'uploaded', 'video/b.mp4', '${hostile}'),
        ('${uid(3)}', 'image', 'pending', null, '${pending}');
    `);
    await apply(files.slice(mine));
    const rows = await exec<Record<string, unknown>>(
      'select width, height, duration_seconds, media_info, original_name, metadata from records order by uid',
    );
    expect(rows[0]).toEqual({
      width: 96,
      height: 64,
      duration_seconds: 1.5,
      media_info: { width: 96, height: 64, durationSeconds: 1.5, codec: 'avc1', tracks: { video: 1, audio: 0 } },
      original_name: 'my_ clip_.mp4',
      metadata: { upload: { fileName: 'my\u0007 clip".mp4' }, title: 'kept' },
    });
    expect(rows[1]).toMatchObject({ width: null, height: null, duration_seconds: null, original_name: null });
    // A pending record's metadata is its creator's: nothing is taken from it.
    expect(rows[2]).toMatchObject({ width: null, media_info: null, metadata: { media: { width: 100 } } });
  } finally {
    await database.close();
  }
});
