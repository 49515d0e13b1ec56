/**
 * Direct uploads through the real API: one-time upload tokens on local disk (app.request) and presigned PUTs on
 * s3rver with the AWS SDK as the client; hostile paths (oversize, wrong owner, bad bytes, reuse) change nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { objects, records, stagedUploads, sweepDirectUploads } from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import { S3RVER_CREDENTIALS, type TestS3Server } from '@mediaforge/storage/testing';
import { eq } from 'drizzle-orm';
import { createTestApi, errorOf, type TestApi } from '../api/support.ts';
import {
  createRecord,
  expire,
  fixture,
  heldPut,
  stagedKeys,
  startPresignedApi,
  ticketFor,
  untilState,
} from './direct-support.ts';

describeBackends('direct uploads with one-time tokens (local disk)', (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(backend.database(), { MAX_FILE_SIZE_MB: '1', THUMBNAILS: 'false' });
  });
  afterAll(() => api.close());

  test('token PUT then complete stores the file through the pipeline; the staging object is gone', async () => {
    const { uid } = await createRecord(api, 'image');
    const ticket = await ticketFor(api, uid);
    expect(ticket.kind).toBe('token');
    expect(ticket.url).toStartWith('/v1/direct-uploads/');
    const put = await api.call('PUT', ticket.url, { body: fixture('fixture.png') });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ uploadId: ticket.uploadId, size: fixture('fixture.png').size });
    const reuse = await api.call('PUT', ticket.url, { body: fixture('fixture.png') });
    expect(await errorOf(reuse)).toMatchObject({ status: 409, code: 'UPLOAD_USED' });
    const done = await api.call('POST', `/v1/records/${uid}/file/complete`, { json: { uploadId: ticket.uploadId } });
    expect(done.status).toBe(201);
    const result = (await done.json()) as { record: { status: string; storageKey: string; sha256: string } };
    expect(result.record.status).toBe('uploaded');
    expect(result.record.storageKey).toStartWith('image/');
    const stored = await api.store.get(result.record.storageKey);
    expect(new Bun.CryptoHasher('sha256').update(await new Response(stored?.body).arrayBuffer()).digest('hex')).toBe(
      result.record.sha256,
    );
    expect(await stagedKeys(api)).toEqual([]);
    const again = await api.call('POST', `/v1/records/${uid}/file/complete`, { json: { uploadId: ticket.uploadId } });
    expect(await errorOf(again)).toMatchObject({ status: 409, code: 'UPLOAD_USED' });
  });

  test('bad bytes at completion: the staged object is deleted and the record is untouched', async () => {
    const { uid } = await createRecord(api, 'image');
    const ticket = await ticketFor(api, uid);
    const png = await fixture('fixture.png').bytes();
    const truncated = png.slice(0, Math.floor(png.byteLength / 2));
    expect((await api.call('PUT', ticket.url, { body: truncated })).status).toBe(200);
    expect(await stagedKeys(api)).toEqual([`staging/${ticket.uploadId}`]);
    const done = await api.call('POST', `/v1/records/${uid}/file/complete`, { json: { uploadId: ticket.uploadId } });
    expect(await errorOf(done)).toMatchObject({ status: 422, code: 'INTEGRITY_ERROR' });
    expect(await stagedKeys(api)).toEqual([]);
    const [row] = await api.database.db.select().from(records).where(eq(records.uid, uid));
    expect(row).toMatchObject({ status: 'pending', storageKey: null, sha256: null, claimToken: null });
    const [staged] = await api.database.db.select().from(stagedUploads).where(eq(stagedUploads.id, ticket.uploadId));
    expect(staged?.state).toBe('failed');
  });

  test('oversize: refused at issue, on Content-Length, and as bytes arrive past the bound; nothing stays', async () => {
    const { uid } = await createRecord(api, 'image');
    const issue = await api.call('POST', `/v1/records/${uid}/upload-url`, { json: { size: 2 * 1024 * 1024 } });
    expect(await errorOf(issue)).toMatchObject({ status: 413, code: 'FILE_SIZE_EXCEEDED' });
    const small = await ticketFor(api, uid, { size: 100 });
    const png = await fixture('fixture.png').bytes();
    const declared = await api.call('PUT', small.url, {
      body: png,
      headers: { 'content-length': String(png.byteLength) },
    });
    expect(await errorOf(declared)).toMatchObject({ status: 413, code: 'FILE_SIZE_EXCEEDED' });
    // A chunked body carries no Content-Length: the bound cuts it off while it streams.
    const streamed = await ticketFor(api, uid, { size: 1000 });
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(400));
        controller.close();
      },
    });
    const cut = await api.call('PUT', streamed.url, { body: chunks });
    expect(await errorOf(cut)).toMatchObject({ status: 413, code: 'FILE_SIZE_EXCEEDED' });
    expect(await stagedKeys(api)).toEqual([]);
  });

  test('expired: a token is refused after expiry, and the sweep removes staged bytes nobody completed', async () => {
    const { uid } = await createRecord(api, 'image');
    const late = await ticketFor(api, uid);
    const received = await ticketFor(api, uid);
    expect((await api.call('PUT', received.url, { body: fixture('fixture.png') })).status).toBe(200);
    await expire(api, [late.uploadId, received.uploadId], 60_000);
    const refused = await api.call('PUT', late.url, { body: fixture('fixture.png') });
    expect(await errorOf(refused)).toMatchObject({ status: 409, code: 'UPLOAD_USED' });
    expect(await stagedKeys(api)).toContain(`staging/${received.uploadId}`);
    expect(await sweepDirectUploads(api.database.db, api.store, 30_000, 60_000)).toBeGreaterThanOrEqual(2);
    expect(await stagedKeys(api)).toEqual([]);
    const done = await api.call('POST', `/v1/records/${uid}/file/complete`, { json: { uploadId: received.uploadId } });
    expect(await errorOf(done)).toMatchObject({ status: 404, code: 'UPLOAD_NOT_FOUND' });
  });

  test('completing a token upload whose PUT is still arriving says so, and how to recover if it was cut off', async () => {
    const { uid, ticket, put, release } = await heldPut(api);
    let message = '';
    for (let i = 0; i < 100 && !message.includes('still being received'); i++) {
      const early = await api.call('POST', `/v1/records/${uid}/file/complete`, { json: { uploadId: ticket.uploadId } });
      const error = await errorOf(early);
      expect(error).toMatchObject({ status: 409, code: 'UPLOAD_NOT_RECEIVED' });
      message = error.message;
      if (!message.includes('still being received')) await Bun.sleep(20);
    }
    expect(message).toContain('request a new upload URL');
    release();
    expect((await put).status).toBe(200);
    const done = await api.call('POST', `/v1/records/${uid}/file/complete`, { json: { uploadId: ticket.uploadId } });
    expect(done.status).toBe(201);
  });

  test('a PUT that outlives its upload (swept meanwhile) is refused and leaves no staged bytes behind', async () => {
    const { ticket, put, release } = await heldPut(api);
    // Once the PUT is arriving, its upload expires and the sweep (past expiry and grace) removes the row.
    await untilState(api, ticket.uploadId, 'receiving');
    await expire(api, [ticket.uploadId], 3_600_000);
    expect(await sweepDirectUploads(api.database.db, api.store, 30_000, 60_000)).toBeGreaterThanOrEqual(1);
    release();
    expect(await errorOf(await put)).toMatchObject({ status: 404, code: 'UPLOAD_NOT_FOUND' });
    expect(await stagedKeys(api)).not.toContain(`staging/${ticket.uploadId}`);
  });

  test('wrong owner: bob can neither get a URL for, PUT to, nor complete alice’s upload', async () => {
    const { uid } = await createRecord(api, 'image');
    const denied = await api.call('POST', `/v1/records/${uid}/upload-url`, { as: 'bob', json: {} });
    expect(await errorOf(denied)).toMatchObject({ status: 404, code: 'RECORD_NOT_FOUND' });
    const ticket = await ticketFor(api, uid);
    const put = await api.call('PUT', ticket.url, { as: 'bob', body: fixture('fixture.png') });
    expect(await errorOf(put)).toMatchObject({ status: 404, code: 'UPLOAD_NOT_FOUND' });
    const forged = await api.call('PUT', `${ticket.url.slice(0, -4)}AAAA`, { body: fixture('fixture.png') });
    expect(await errorOf(forged)).toMatchObject({ status: 404, code: 'UPLOAD_NOT_FOUND' });
    expect((await api.call('PUT', ticket.url, { body: fixture('fixture.png') })).status).toBe(200);
    const steal = await api.call('POST', `/v1/records/${uid}/file/complete`, {
      as: 'bob',
      json: { uploadId: ticket.uploadId },
    });
    expect(await errorOf(steal)).toMatchObject({ status: 404, code: 'UPLOAD_NOT_FOUND' });
    const other = await createRecord(api, 'image');
    const elsewhere = await api.call('POST', `/v1/records/${other.uid}/file/complete`, {
      json: { uploadId: ticket.uploadId },
    });
    expect(await errorOf(elsewhere)).toMatchObject({ status: 404, code: 'UPLOAD_NOT_FOUND' });
    const early = await ticketFor(api, other.uid);
    const notYet = await api.call('POST', `/v1/records/${other.uid}/file/complete`, {
      json: { uploadId: early.uploadId },
    });
    expect(await errorOf(notYet)).toMatchObject({ status: 409, code: 'UPLOAD_NOT_RECEIVED' });
    const mine = await api.call('POST', `/v1/records/${uid}/file/complete`, { json: { uploadId: ticket.uploadId } });
    expect(mine.status).toBe(201);
  });
});

describe('direct uploads with presigned PUTs (s3rver, AWS SDK client)', () => {
  let s3: TestS3Server;
  let api: TestApi;
  let client: S3Client;
  let close = async () => {};
  beforeAll(async () => {
    ({ api, s3, close } = await startPresignedApi('direct-uploads', { MAX_FILE_SIZE_MB: '1', THUMBNAILS: 'false' }));
    client = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: S3RVER_CREDENTIALS,
    });
  });
  afterAll(() => close());

  test('a presigned URL expires, is signed for the Content-Length, targets a staging key, and completes', async () => {
    const { uid } = await createRecord(api, 'image');
    const png = await fixture('fixture.png').bytes();
    const missing = await api.call('POST', `/v1/records/${uid}/upload-url`, { json: {} });
    expect(await errorOf(missing)).toMatchObject({ status: 400, code: 'INVALID_SIZE' });
    const ticket = await ticketFor(api, uid, { size: png.byteLength });
    expect(ticket.kind).toBe('presigned');
    const url = new URL(ticket.url);
    expect(url.pathname).toBe(`/${s3.bucket}/staging/${ticket.uploadId}`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(url.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toContain('content-length');
    expect(ticket.headers['Content-Length']).toBe(String(png.byteLength));
    const put = await fetch(ticket.url, { method: 'PUT', body: png, headers: ticket.headers });
    expect(put.status).toBe(200);
    const done = await api.call('POST', `/v1/records/${uid}/file/complete`, { json: { uploadId: ticket.uploadId } });
    expect(done.status).toBe(201);
    const { record } = (await done.json()) as { record: { storageKey: string; sha256: string; status: string } };
    expect(record.status).toBe('uploaded');
    expect(record.storageKey).not.toStartWith('staging/');
    expect((await api.store.list('staging/')).items).toEqual([]);
    const [object] = await api.database.db.select().from(objects).where(eq(objects.key, record.storageKey));
    expect(object).toMatchObject({ refs: 1, state: 'live', sha256: record.sha256 });
  });

  test('an object larger than the signed size (s3rver does not check signatures) is deleted at completion', async () => {
    const { uid } = await createRecord(api, 'image');
    const ticket = await ticketFor(api, uid, { size: 50 });
    // Written with the SDK straight to the staging key, as a client ignoring the signed length could on a lax store.
    const key = `staging/${ticket.uploadId}`;
    await client.send(
      new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: await fixture('fixture.png').bytes() }),
    );
    const done = await api.call('POST', `/v1/records/${uid}/file/complete`, { json: { uploadId: ticket.uploadId } });
    expect(await errorOf(done)).toMatchObject({ status: 413, code: 'FILE_SIZE_EXCEEDED' });
    expect(await api.store.head(key)).toBeNull();
    const [row] = await api.database.db.select().from(records).where(eq(records.uid, uid));
    expect(row).toMatchObject({ status: 'pending', storageKey: null });
  });
});
