/**
 * The per-user limit of open uploads (TUS_MAX_UPLOADS_PER_USER) covers direct uploads and TUS uploads together:
 * past it issuing a direct upload URL or creating a TUS upload is refused with 429 UPLOAD_LIMIT, other users are
 * unaffected, completing an upload frees its place, and concurrent issues never pass the limit (count and insert run
 * under one per-user advisory lock).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { join } from 'node:path';
import { ApiKeyStore, countOpenUploads } from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import { createTestApi, errorOf, FIXTURES, type TestApi } from '../api/support.ts';

const LIMIT = 10;

describeBackends('per-user limit of open uploads', (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(backend.database(), {
      MAX_FILE_SIZE_MB: '1',
      THUMBNAILS: 'false',
      TUS_MAX_UPLOADS_PER_USER: String(LIMIT),
      // 30 requests at once from one key: the per-key cap of JSON requests in flight must not be what refuses them.
      API_MAX_JSON_REQUESTS_PER_KEY: '64',
    });
  });
  afterAll(() => api.close());

  const record = async (headers: Record<string, string>) => {
    const response = await api.app.request('/v1/records', {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ mediaType: 'image' }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { uid: string; userId: string }).uid;
  };
  const issue = (uid: string, headers: Record<string, string>) =>
    api.app.request(`/v1/records/${uid}/upload-url`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: '{}',
    });
  const as = (who: 'alice' | 'bob') => ({ authorization: `Bearer ${api.keys[who]}` });

  test('the 11th open direct upload is refused, TUS shares the limit, bob is unaffected, completing frees a place', async () => {
    const uid = await record(as('alice'));
    const tickets: { uploadId: string; url: string }[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const response = await issue(uid, as('alice'));
      expect(response.status).toBe(201);
      tickets.push((await response.json()) as { uploadId: string; url: string });
    }
    const over = await issue(uid, as('alice'));
    expect(await errorOf(over)).toMatchObject({ status: 429, code: 'UPLOAD_LIMIT' });
    const tus = await api.app.request('/v1/uploads', {
      method: 'POST',
      headers: {
        ...as('alice'),
        'Tus-Resumable': '1.0.0',
        'Upload-Length': '100',
        'Upload-Metadata': `recordUid ${Buffer.from(uid).toString('base64')}`,
      },
    });
    expect(await errorOf(tus)).toMatchObject({ status: 429, code: 'UPLOAD_LIMIT' });

    expect((await issue(await record(as('bob')), as('bob'))).status).toBe(201);

    const first = tickets[0] as { uploadId: string; url: string };
    const put = await api.call('PUT', first.url, { body: Bun.file(join(FIXTURES, 'fixture.png')) });
    expect(put.status).toBe(200);
    // Received but not completed: still open.
    expect((await issue(uid, as('alice'))).status).toBe(429);
    const done = await api.call('POST', `/v1/records/${uid}/file/complete`, { json: { uploadId: first.uploadId } });
    expect(done.status).toBe(201);
    expect((await issue(uid, as('alice'))).status).toBe(201);
    expect((await issue(uid, as('alice'))).status).toBe(429);
  });

  test('concurrent issues never pass the limit', async () => {
    const userId = `carol-${Math.random().toString(36).slice(2, 8)}`;
    const key = (await new ApiKeyStore(api.database.db).create({ userId })).key;
    const headers = { authorization: `Bearer ${key}` };
    const uid = await record(headers);
    const statuses = await Promise.all(Array.from({ length: 30 }, async () => (await issue(uid, headers)).status));
    expect(statuses.filter((s) => s === 201)).toHaveLength(LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(30 - LIMIT);
    expect(await countOpenUploads(api.database.db, userId)).toBe(LIMIT);
  });
});
