/**
 * The per-user limit of open uploads counts every upload whose staged bytes may still exist, expired or not, so the
 * bytes kept outside the storage quota stay within the limit times the size cap. Creating an upload first removes the
 * creator's own expired uploads that are safe to remove (token and TUS alike), so nobody is locked out by uploads
 * they can no longer use; one whose PUT may still be arriving keeps its place for the sweep's grace, a completion in
 * progress is never touched, and another user's uploads are left alone.
 */
import { afterEach, beforeEach, expect, test } from 'bun:test';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { countOpenUploads, stagedUploads } from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import { eq } from 'drizzle-orm';
import { createTestApi, errorOf, type TestApi } from '../api/support.ts';
import { tempDir } from '../support/cli.ts';
import {
  createRecord,
  expire,
  fixture,
  heldPut,
  stagedKeys,
  storeHoldingCompletions,
  ticketFor,
  untilState,
} from './direct-support.ts';

const HOUR = 3_600_000;
const TUS = { 'Tus-Resumable': '1.0.0' };

describeBackends('the per-user limit counts staged bytes, and creation reclaims expired uploads', (backend) => {
  let api: TestApi;
  let held: ReturnType<typeof storeHoldingCompletions>;
  beforeEach(async () => {
    held = storeHoldingCompletions(join(tempDir('mediaforge-reclaim-'), 'objects'));
    // A fresh app per test: its users (alice, bob) start with no uploads.
    api = await createTestApi(
      backend.database(),
      { MAX_FILE_SIZE_MB: '1', THUMBNAILS: 'false', TUS_MAX_UPLOADS_PER_USER: '2' },
      held.store,
    );
  });
  afterEach(() => api.close());

  const issue = (uid: string) => api.call('POST', `/v1/records/${uid}/upload-url`, { json: {} });
  const createTus = (uid: string, length: number) =>
    api.call('POST', '/v1/uploads', {
      headers: {
        ...TUS,
        'Upload-Length': String(length),
        'Upload-Metadata': `recordUid ${Buffer.from(uid).toString('base64')}`,
      },
    });
  const rowOf = async (id: string) =>
    (await api.database.db.select().from(stagedUploads).where(eq(stagedUploads.id, id)))[0];

  test('an expired upload holding bytes counts; one whose PUT may still be arriving keeps its place for the grace', async () => {
    const { uid, ticket: arriving, put, release } = await heldPut(api);
    await untilState(api, arriving.uploadId, 'receiving');
    const received = await ticketFor(api, uid);
    expect((await api.call('PUT', received.url, { body: fixture('fixture.png') })).status).toBe(200);
    // A minute past expiry: well inside the sweep's grace (one UPLOAD_URL_EXPIRY_SECONDS, 15 minutes).
    await expire(api, [arriving.uploadId, received.uploadId], 60_000);
    const { userId } = await createRecord(api, 'image');
    expect(await countOpenUploads(api.database.db, userId)).toBe(2);

    // The received one goes (an expired token cannot start a PUT); the one still arriving stays, and counts.
    expect((await issue(uid)).status).toBe(201);
    expect(await rowOf(received.uploadId)).toBeUndefined();
    expect(await stagedKeys(api)).not.toContain(`staging/${received.uploadId}`);
    expect(await errorOf(await issue(uid))).toMatchObject({ status: 429, code: 'UPLOAD_LIMIT' });

    // Past the grace it goes too; its PUT, once it ends, finds it gone and removes what it wrote.
    await expire(api, [arriving.uploadId], HOUR);
    expect((await issue(uid)).status).toBe(201);
    release();
    expect(await errorOf(await put)).toMatchObject({ status: 404, code: 'UPLOAD_NOT_FOUND' });
    expect(await stagedKeys(api)).not.toContain(`staging/${arriving.uploadId}`);
    expect(await countOpenUploads(api.database.db, userId)).toBe(2);
  });

  test('creating an upload (direct or TUS) removes the creator’s own expired token and TUS uploads, not others’', async () => {
    const { uid } = await createRecord(api, 'image');
    const token = await ticketFor(api, uid);
    expect((await api.call('PUT', token.url, { body: fixture('fixture.png') })).status).toBe(200);
    const created = await createTus(uid, 1000);
    expect(created.status).toBe(201);
    const location = created.headers.get('location') ?? '';
    const patch = await api.call('PATCH', location, {
      headers: { ...TUS, 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': '0' },
      body: new Uint8Array(400),
    });
    expect(patch.status).toBe(204);
    const tusDir = join(api.settings.home, 'objects', 'staging', 'tus');
    const tusId = location.split('/').pop() as string;
    expect(readdirSync(tusDir)).toContain(tusId);
    const [tusRow] = await api.database.db.select().from(stagedUploads).where(eq(stagedUploads.stagingKey, tusId));
    const bobs = await ticketFor(api, (await createRecord(api, 'image', 'bob')).uid, {}, 'bob');
    expect((await api.call('PUT', bobs.url, { as: 'bob', body: fixture('fixture.png') })).status).toBe(200);
    await expire(api, [token.uploadId, tusRow?.id ?? '', bobs.uploadId], HOUR);

    // Alice is at her limit with two uploads she can no longer use: asking for a URL removes them first.
    const fresh = await issue(uid);
    expect(fresh.status).toBe(201);
    expect(await rowOf(token.uploadId)).toBeUndefined();
    expect(await rowOf(tusRow?.id ?? '')).toBeUndefined();
    expect(await stagedKeys(api)).not.toContain(`staging/${token.uploadId}`);
    expect(readdirSync(tusDir).filter((name) => name.startsWith(tusId))).toEqual([]);
    expect(await rowOf(bobs.uploadId)).toMatchObject({ state: 'received' });
    expect(await stagedKeys(api)).toContain(`staging/${bobs.uploadId}`);

    // A TUS creation reclaims the same way.
    const { uploadId } = (await fresh.json()) as { uploadId: string };
    await expire(api, [uploadId], HOUR);
    expect((await createTus(uid, 10)).status).toBe(201);
    expect(await rowOf(uploadId)).toBeUndefined();
  });

  test('a completion in progress is never reclaimed, however long expired, and keeps its place', async () => {
    const { uid } = await createRecord(api, 'image');
    const ticket = await ticketFor(api, uid);
    expect((await api.call('PUT', ticket.url, { body: fixture('fixture.png') })).status).toBe(200);
    held.hold();
    const completion = api.call('POST', `/v1/records/${uid}/file/complete`, { json: { uploadId: ticket.uploadId } });
    await untilState(api, ticket.uploadId, 'completing');
    await expire(api, [ticket.uploadId], HOUR);
    expect((await issue(uid)).status).toBe(201);
    expect(await errorOf(await issue(uid))).toMatchObject({ status: 429, code: 'UPLOAD_LIMIT' });
    expect(await rowOf(ticket.uploadId)).toMatchObject({ state: 'completing' });
    held.release();
    expect((await completion).status).toBe(201);
    expect((await issue(uid)).status).toBe(201);
  });
});
