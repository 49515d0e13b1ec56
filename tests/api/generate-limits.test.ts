/**
 * Generating an image larger than synthesis can make (24 megapixels) is refused at once, through the API, with the
 * limit in the error, and leaves the record pending: before, a 40 MB JPEG spent ~19 s and ~400 MB of the API process
 * and was then refused by its own validation (an attacker's finding).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { type Database, maxSynthImageBytes, openDatabase } from '@mediaforge/core';
import { createTestApi, errorOf, type TestApi } from './support.ts';

let api: TestApi;
let database: Database;
beforeAll(async () => {
  database = await openDatabase();
  await database.migrate();
  api = await createTestApi(database, { MAX_FILE_SIZE_MB: '50' });
});
afterAll(async () => {
  api.close();
  await database.close();
});

test('an image past the synthesis limit is a 400 INVALID_SIZE naming the limit; the record stays pending', async () => {
  const created = await api.call('POST', '/v1/records', { json: { mediaType: 'image' } });
  const { uid } = (await created.json()) as { uid: string };
  const fileSizeKb = 40_000;
  expect(fileSizeKb * 1024).toBeGreaterThan(maxSynthImageBytes('jpeg'));
  const refused = await api.call('POST', `/v1/records/${uid}/generate`, { json: { fileSizeKb } });
  expect(await errorOf(refused)).toMatchObject({ status: 400, code: 'INVALID_SIZE' });
  const record = (await (await api.call('GET', `/v1/records/${uid}`)).json()) as { status: string };
  expect(record.status).toBe('pending');
  // Under the limit it is made.
  const made = await api.call('POST', `/v1/records/${uid}/generate`, { json: { fileSizeKb: 64 } });
  expect(made.status).toBe(200);
});
