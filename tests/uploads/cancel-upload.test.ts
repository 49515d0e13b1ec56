/**
 * Cancelling a direct upload (`DELETE /v1/direct-uploads/{uploadId}`): its staged bytes go, its token and id are
 * refused from then on, and a token upload frees its place under the per-user limit at once. Someone else's upload
 * is 404 like a missing one and stays as it was; an upload being completed, or stored, cannot be cancelled. On S3 a
 * cancelled presigned upload keeps its place until its URL has expired, since the URL could put bytes back, and its
 * bytes are removed once a PUT can no longer be arriving.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { newUid } from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import { createTestApi, errorOf, type TestApi } from '../api/support.ts';
import { tempDir } from '../support/cli.ts';
import {
  createRecord,
  expire,
  fixture,
  heldPut,
  stagedKeys,
  startPresignedApi,
  storeHoldingCompletions,
  ticketFor,
  untilState,
} from './direct-support.ts';

const ENV = { MAX_FILE_SIZE_MB: '1', THUMBNAILS: 'false', TUS_MAX_UPLOADS_PER_USER: '2' };
const cancel = (api: TestApi, uploadId: string, as: 'alice' | 'bob' = 'alice') =>
  api.call('DELETE', `/v1/direct-uploads/${uploadId}`, { as });
const complete = (api: TestApi, uid: string, uploadId: string) =>
  api.call('POST', `/v1/records/${uid}/file/complete`, { json: { uploadId } });
const issue = (api: TestApi, uid: string, json: unknown = {}) =>
  api.call('POST', `/v1/records/${uid}/upload-url`, { json });

describeBackends('cancelling a direct upload (one-time tokens, local disk)', (backend) => {
  let api: TestApi;
  let held: ReturnType<typeof storeHoldingCompletions>;
  beforeEach(async () => {
    held = storeHoldingCompletions(join(tempDir('mediaforge-cancel-'), 'objects'));
    // A fresh app per test: its users (alice, bob) start with no uploads.
    api = await createTestApi(backend.database(), ENV, held.store);
  });
  afterEach(() => api.close());

  test('cancel frees a place and removes the staged bytes; the token can no longer be PUT to or completed', async () => {
    const { uid } = await createRecord(api, 'image');
    const received = await ticketFor(api, uid);
    expect((await api.call('PUT', received.url, { body: fixture('fixture.png') })).status).toBe(200);
    const unused = await ticketFor(api, uid);
    expect(await errorOf(await issue(api, uid))).toMatchObject({ status: 429, code: 'UPLOAD_LIMIT' });

    expect((await cancel(api, received.uploadId)).status).toBe(204);
    expect(await stagedKeys(api)).toEqual([]);
    expect((await issue(api, uid)).status).toBe(201);
    const put = await api.call('PUT', received.url, { body: fixture('fixture.png') });
    expect(await errorOf(put)).toMatchObject({ status: 409, code: 'UPLOAD_USED' });
    expect(await errorOf(await complete(api, uid, received.uploadId))).toMatchObject({
      status: 409,
      code: 'UPLOAD_USED',
    });

    expect((await cancel(api, unused.uploadId)).status).toBe(204);
    const late = await api.call('PUT', unused.url, { body: fixture('fixture.png') });
    expect(await errorOf(late)).toMatchObject({ status: 409, code: 'UPLOAD_USED' });
    expect(await errorOf(await complete(api, uid, unused.uploadId))).toMatchObject({ status: 409 });
    expect(await stagedKeys(api)).toEqual([]);
    expect((await issue(api, uid)).status).toBe(201);
  });

  test('someone else’s upload is 404 exactly like a missing one, and stays as it was', async () => {
    const { uid } = await createRecord(api, 'image');
    const ticket = await ticketFor(api, uid);
    expect((await api.call('PUT', ticket.url, { body: fixture('fixture.png') })).status).toBe(200);
    const missingId = newUid();
    const theirs = await errorOf(await cancel(api, ticket.uploadId, 'bob'));
    const missing = await errorOf(await cancel(api, missingId, 'bob'));
    expect(theirs).toMatchObject({ status: 404, code: 'UPLOAD_NOT_FOUND' });
    expect({ ...theirs, message: theirs.message.replace(ticket.uploadId, 'ID') }).toEqual({
      ...missing,
      message: missing.message.replace(missingId, 'ID'),
    });
    expect(await stagedKeys(api)).toEqual([`staging/${ticket.uploadId}`]);
    expect((await complete(api, uid, ticket.uploadId)).status).toBe(201);
  });

  test('an upload being completed cannot be cancelled, nor one already stored', async () => {
    const { uid } = await createRecord(api, 'image');
    const ticket = await ticketFor(api, uid);
    expect((await api.call('PUT', ticket.url, { body: fixture('fixture.png') })).status).toBe(200);
    held.hold();
    const completion = complete(api, uid, ticket.uploadId);
    await untilState(api, ticket.uploadId, 'completing');
    const during = await errorOf(await cancel(api, ticket.uploadId));
    expect(during).toMatchObject({ status: 409, code: 'UPLOAD_USED' });
    expect(during.message).toContain('being completed');
    expect(await stagedKeys(api)).toEqual([`staging/${ticket.uploadId}`]);
    held.release();
    expect((await completion).status).toBe(201);
    const after = await errorOf(await cancel(api, ticket.uploadId));
    expect(after).toMatchObject({ status: 409, code: 'UPLOAD_USED' });
    expect(after.message).toContain('already stored');
  });

  test('cancelling while the token PUT is still arriving: the PUT is refused and leaves no bytes behind', async () => {
    const { uid, ticket, put, release } = await heldPut(api);
    await untilState(api, ticket.uploadId, 'receiving');
    expect((await cancel(api, ticket.uploadId)).status).toBe(204);
    release();
    expect(await errorOf(await put)).toMatchObject({ status: 404, code: 'UPLOAD_NOT_FOUND' });
    expect(await stagedKeys(api)).toEqual([]);
    expect(await errorOf(await complete(api, uid, ticket.uploadId))).toMatchObject({ status: 409 });
  });
});

describe('cancelling a presigned upload (s3rver)', () => {
  let api: TestApi;
  let close = async () => {};
  beforeAll(async () => {
    ({ api, close } = await startPresignedApi('cancel-uploads', { ...ENV, TUS_MAX_UPLOADS_PER_USER: '1' }));
  });
  afterAll(() => close());

  test('its bytes go and it cannot be completed; its place is kept until its URL has expired, its bytes past the grace', async () => {
    const { uid } = await createRecord(api, 'image');
    const png = await fixture('fixture.png').bytes();
    const ticket = await ticketFor(api, uid, { size: png.byteLength });
    const key = `staging/${ticket.uploadId}`;
    const put = () => fetch(ticket.url, { method: 'PUT', body: png, headers: ticket.headers });
    expect((await put()).status).toBe(200);
    expect((await cancel(api, ticket.uploadId)).status).toBe(204);
    expect(await api.store.head(key)).toBeNull();
    expect(await errorOf(await complete(api, uid, ticket.uploadId))).toMatchObject({ status: 409 });

    // S3 cannot revoke the URL: it still puts bytes back, so the upload still counts.
    expect((await put()).status).toBe(200);
    expect(await errorOf(await issue(api, uid, { size: 10 }))).toMatchObject({ status: 429, code: 'UPLOAD_LIMIT' });
    // Once its URL has expired no new PUT can start: it no longer counts. A PUT may still be arriving for a grace, so
    // its bytes stay until that has passed; then the next request removes them.
    await expire(api, [ticket.uploadId], 60_000);
    const next = await issue(api, uid, { size: 10 });
    expect(next.status).toBe(201);
    expect(await api.store.head(key)).not.toBeNull();
    const nextId = ((await next.json()) as { uploadId: string }).uploadId;
    expect((await cancel(api, nextId)).status).toBe(204);
    await expire(api, [ticket.uploadId, nextId], 3_600_000);
    expect((await issue(api, uid, { size: 10 })).status).toBe(201);
    expect(await api.store.head(key)).toBeNull();
  });
});
