import { expect, test } from 'bun:test';
import { openDatabase, RecordRepository, userScope } from '@mediaforge/core';
import { RecordSchema, toRecordDto } from './schemas.ts';

test('a record as the API shows it has only the documented fields: never the claim token or thumbnail key', async () => {
  const database = await openDatabase();
  try {
    await database.migrate();
    const record = await new RecordRepository(database.db).create({ mediaType: 'audio' }, userScope('alice'));
    const claimed = { ...record, status: 'processing' as const, claimToken: crypto.randomUUID() };
    const shown = toRecordDto(claimed);
    expect(shown).not.toHaveProperty('claimToken');
    // Any column added to records later stays internal until the schema documents it.
    const documented = Object.keys(RecordSchema.shape);
    expect(Object.keys(shown).filter((key) => !documented.includes(key))).toEqual([]);
    // A thumbnail is shown as its route, not its storage key.
    expect(shown.thumbnailUrl).toBeNull();
    const key = `thumbnails/${record.uid}.0123456789ab.webp`;
    const sha256 = 'ab'.repeat(32);
    const thumbnail = { key, width: 256, height: 192, size: 900, sourceSha256: sha256 };
    const withThumbnail = toRecordDto({ ...record, sha256, thumbnailKey: key, metadata: { thumbnail } });
    expect(withThumbnail).not.toHaveProperty('thumbnailKey');
    expect(withThumbnail.thumbnailUrl).toBe(`/v1/records/${record.uid}/thumbnail`);
    // One of another file than the record's is not served, so not shown.
    const stale = { ...record, sha256: 'cd'.repeat(32), thumbnailKey: key, metadata: { thumbnail } };
    expect(toRecordDto(stale).thumbnailUrl).toBeNull();
  } finally {
    await database.close();
  }
});
