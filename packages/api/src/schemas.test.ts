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
    const withThumbnail = toRecordDto({ ...record, thumbnailKey: `thumbnails/${record.uid}.0123456789ab.webp` });
    expect(withThumbnail).not.toHaveProperty('thumbnailKey');
    expect(withThumbnail.thumbnailUrl).toBe(`/v1/records/${record.uid}/thumbnail`);
  } finally {
    await database.close();
  }
});
