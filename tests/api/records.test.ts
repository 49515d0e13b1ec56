import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { type Database, openDatabase, records } from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import { createS3Store } from '@mediaforge/storage';
import { S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from '@mediaforge/storage/testing';
import { eq } from 'drizzle-orm';
import { createTestApi, errorOf, FIXTURES, type TestApi } from './support.ts';

const fixture = (name: string) => Bun.file(join(FIXTURES, name));

describeBackends('API records and files', (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(backend.database(), { MAX_FILE_SIZE_MB: '1', API_MAX_JSON_KB: '16' });
  });
  afterAll(() => api.close());

  const createRecord = async (mediaType: string, as: 'alice' | 'bob' | 'admin' = 'alice') => {
    const response = await api.call('POST', '/v1/records', { as, json: { mediaType, title: `${mediaType} test` } });
    expect(response.status).toBe(201);
    return (await response.json()) as { uid: string; userId: string; status: string };
  };

  test('health and ready need no key; everything else does, with one error shape', async () => {
    expect((await api.call('GET', '/health', { as: null })).status).toBe(200);
    const ready = await api.call('GET', '/ready', { as: null });
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { database: { ok: boolean } }).database.ok).toBe(true);
    for (const path of ['/v1/records', '/v1/tasks', '/v1/workers', '/metrics']) {
      const response = await api.call('GET', path, { as: null });
      expect(await errorOf(response)).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
      expect(response.headers.get('www-authenticate')).toContain('Bearer');
    }
    const malformed = await api.call('GET', '/v1/records', { as: null, headers: { authorization: 'Token abc' } });
    expect(await errorOf(malformed)).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    const forged = `${api.keys.alice.slice(0, -4)}AAAA`;
    const wrong = await api.call('GET', '/v1/records', { as: null, headers: { authorization: `Bearer ${forged}` } });
    expect(wrong.status).toBe(401);
    const body = (await (await api.call('GET', '/nowhere', { as: null })).json()) as { error: { requestId: string } };
    expect(body.error.requestId).toBeString();
  });

  test('records: one or many, validation, conflicts, keyset pages, owner isolation', async () => {
    const one = await createRecord('text');
    expect(one.userId).toStartWith('alice-');
    const many = await api.call('POST', '/v1/records', {
      json: { records: [{ mediaType: 'image' }, { mediaType: 'audio' }, { mediaType: 'video' }] },
    });
    expect(many.status).toBe(201);
    expect(((await many.json()) as { items: unknown[] }).items).toHaveLength(3);

    const invalid = await api.call('POST', '/v1/records', { json: { mediaType: 'hologram' } });
    expect(await errorOf(invalid)).toMatchObject({ status: 400, code: 'VALIDATION_ERROR' });
    const broken = await api.call('POST', '/v1/records', {
      body: '{"mediaType": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(await errorOf(broken)).toMatchObject({ status: 400, code: 'MALFORMED_JSON' });
    const huge = await api.call('POST', '/v1/records', { json: { mediaType: 'text', title: 'x'.repeat(20_000) } });
    expect(await errorOf(huge)).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    const again = await api.call('POST', '/v1/records', { json: { uid: one.uid, mediaType: 'text' } });
    expect(await errorOf(again)).toMatchObject({ status: 409, code: 'RECORD_EXISTS' });
    const forOther = await api.call('POST', '/v1/records', { json: { mediaType: 'text', userId: 'mallory' } });
    expect(await errorOf(forOther)).toMatchObject({ status: 403, code: 'FORBIDDEN' });

    await createRecord('text', 'bob');
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await api.call('GET', `/v1/records?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      const body = (await page.json()) as { items: { uid: string; userId: string }[]; nextCursor?: string };
      expect(body.items.every((record) => record.userId.startsWith('alice-'))).toBe(true);
      seen.push(...body.items.map((record) => record.uid));
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(4);
    expect(new Set(seen).size).toBe(4);
    const texts = (await (await api.call('GET', '/v1/records?mediaType=text')).json()) as { items: unknown[] };
    expect(texts.items).toHaveLength(1);
    const admin = (await (await api.call('GET', '/v1/records?limit=1000', { as: 'admin' })).json()) as {
      items: { userId: string }[];
    };
    expect(admin.items.some((record) => record.userId.startsWith('bob-'))).toBe(true);
    const spying = await api.call('GET', `/v1/records?userId=${one.userId}`, { as: 'bob' });
    expect(await errorOf(spying)).toMatchObject({ status: 403, code: 'FORBIDDEN' });

    expect((await api.call('GET', `/v1/records/${one.uid}`)).status).toBe(200);
    expect(await errorOf(await api.call('GET', `/v1/records/${one.uid}`, { as: 'bob' }))).toMatchObject({
      status: 404,
      code: 'RECORD_NOT_FOUND',
    });
    expect((await api.call('GET', `/v1/records/${one.uid}`, { as: 'admin' })).status).toBe(200);
    expect((await errorOf(await api.call('GET', '/v1/records/not-a-uuid'))).status).toBe(400);
    const missing = await api.call('GET', '/v1/records/01a1ffe6-4a01-73d5-b3c6-2a032f390dbf');
    expect(await errorOf(missing)).toMatchObject({ status: 404, code: 'RECORD_NOT_FOUND' });
  });

  test('raw upload is detected, validated, compressed and stored; download streams with Range', async () => {
    const record = await createRecord('image');
    const upload = await api.call('POST', `/v1/records/${record.uid}/file`, { body: fixture('fixture.png') });
    expect(upload.status).toBe(201);
    const result = (await upload.json()) as {
      record: { status: string; storageKey: string; source: string; fileSize: number; sha256: string };
      originalSize: number;
    };
    expect(result.record).toMatchObject({ status: 'uploaded', source: 'upload' });
    expect(result.record.storageKey).toStartWith(`image/${record.uid}`);
    expect(result.originalSize).toBe(fixture('fixture.png').size);
    const stored = await api.store.get(result.record.storageKey);
    const storedBytes = new Uint8Array(await new Response(stored?.body).arrayBuffer());
    expect(storedBytes.byteLength).toBe(result.record.fileSize);

    const whole = await api.call('GET', `/v1/records/${record.uid}/file`);
    expect(whole.status).toBe(200);
    expect(new Uint8Array(await whole.arrayBuffer())).toEqual(storedBytes);
    const part = await api.call('GET', `/v1/records/${record.uid}/file`, { headers: { range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-19/${storedBytes.byteLength}`);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(storedBytes.slice(10, 20));
    const tail = await api.call('GET', `/v1/records/${record.uid}/file`, { headers: { range: 'bytes=-5' } });
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(storedBytes.slice(-5));
    const beyond = await api.call('GET', `/v1/records/${record.uid}/file`, { headers: { range: 'bytes=999999-' } });
    expect(await errorOf(beyond)).toMatchObject({ status: 416, code: 'RANGE_NOT_SATISFIABLE' });

    const twice = await api.call('POST', `/v1/records/${record.uid}/file`, { body: fixture('fixture.png') });
    expect(await errorOf(twice)).toMatchObject({ status: 409, code: 'RECORD_HAS_FILE' });
    const replaced = await api.call('POST', `/v1/records/${record.uid}/file?replace=true`, {
      body: fixture('fixture.jpg'),
    });
    expect(replaced.status).toBe(201);
    const after = (await replaced.json()) as { record: { storageKey: string; contentType: string } };
    expect(after.record.contentType).toBe('image/jpeg');
    expect(await api.store.head(result.record.storageKey)).toBeNull();
    expect(await api.store.head(after.record.storageKey)).not.toBeNull();
  });

  test('multipart upload streams the file part; fields before it set options', async () => {
    const record = await createRecord('audio');
    const form = new FormData();
    form.append('compress', 'false');
    form.append('file', new File([await fixture('fixture.wav').bytes()], 'take one.wav', { type: 'audio/wav' }));
    const response = await api.call('POST', `/v1/records/${record.uid}/file`, { body: form });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { record: { contentType: string; originalName: string | null } };
    expect(body.record.contentType).toBe('audio/wav');
    expect(body.record.originalName).toBe('take one.wav');
    const noFile = new FormData();
    noFile.append('note', 'hello');
    const other = await createRecord('audio');
    const refused = await api.call('POST', `/v1/records/${other.uid}/file`, { body: noFile });
    expect(await errorOf(refused)).toMatchObject({ status: 400, code: 'MALFORMED_MULTIPART' });
  });

  test('rejected uploads: typed status, record unchanged, nothing stored', async () => {
    const cases: [string, string, number, string][] = [
      ['image', 'negative/document.pdf', 415, 'FILE_TYPE_NOT_SUPPORTED'],
      ['image', 'negative/elf.bin', 415, 'FILE_TYPE_NOT_SUPPORTED'],
      ['image', 'negative/truncated.png', 422, 'INTEGRITY_ERROR'],
      ['audio', 'negative/truncated.wav', 422, 'INTEGRITY_ERROR'],
      ['text', 'negative/invalid-utf8.txt', 415, 'FILE_TYPE_NOT_SUPPORTED'],
      ['video', 'fixture.mp3', 409, 'MEDIA_TYPE_MISMATCH'],
    ];
    for (const [mediaType, name, status, code] of cases) {
      const record = await createRecord(mediaType);
      const response = await api.call('POST', `/v1/records/${record.uid}/file`, { body: fixture(name) });
      expect({ name, ...(await errorOf(response)) }).toMatchObject({ name, status, code });
      const after = (await (await api.call('GET', `/v1/records/${record.uid}`)).json()) as Record<string, unknown>;
      expect(after).toMatchObject({ status: 'pending', storageKey: null });
      expect((await api.store.list(`${mediaType}/${record.uid}`)).items).toEqual([]);
    }
    const big = await createRecord('text');
    const declared = await api.call('POST', `/v1/records/${big.uid}/file`, {
      body: 'a'.repeat(2 * 1024 * 1024),
      headers: { 'content-length': String(2 * 1024 * 1024) },
    });
    expect(await errorOf(declared)).toMatchObject({ status: 413, code: 'FILE_SIZE_EXCEEDED' });
    // No Content-Length: the limit is enforced while the body streams in.
    const chunk = new TextEncoder().encode('line of text\n'.repeat(5000));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > 3 * 1024 * 1024) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const streamed = await api.call('POST', `/v1/records/${big.uid}/file`, { body: stream });
    expect(await errorOf(streamed)).toMatchObject({ status: 413, code: 'FILE_SIZE_EXCEEDED' });
    expect((await api.store.list(`text/${big.uid}`)).items).toEqual([]);
    const foreign = await createRecord('image', 'bob');
    const intrusion = await api.call('POST', `/v1/records/${foreign.uid}/file`, { body: fixture('fixture.png') });
    expect(await errorOf(intrusion)).toMatchObject({ status: 404, code: 'RECORD_NOT_FOUND' });
  });

  test('delete removes the record and its object; generate fills a record now', async () => {
    const record = await createRecord('image');
    const upload = (await (
      await api.call('POST', `/v1/records/${record.uid}/file`, { body: fixture('fixture.gif') })
    ).json()) as { record: { storageKey: string } };
    expect((await api.call('DELETE', `/v1/records/${record.uid}`, { as: 'bob' })).status).toBe(404);
    const deleted = await api.call('DELETE', `/v1/records/${record.uid}`);
    expect(deleted.status).toBe(200);
    expect(((await deleted.json()) as { objectDeleted: boolean }).objectDeleted).toBe(true);
    expect(await api.store.head(upload.record.storageKey)).toBeNull();
    expect((await api.call('GET', `/v1/records/${record.uid}`)).status).toBe(404);

    const pending = await createRecord('audio');
    const generated = await api.call('POST', `/v1/records/${pending.uid}/generate`, { json: { fileSizeKb: 8 } });
    expect(generated.status).toBe(200);
    const body = (await generated.json()) as { outcome: string; record: { status: string; storageKey: string } };
    expect(body.outcome).toBe('uploaded');
    expect(body.record.status).toBe('uploaded');
    expect(await api.store.head(body.record.storageKey)).not.toBeNull();
    const file = await api.call('GET', `/v1/records/${pending.uid}/file`);
    expect(file.headers.get('content-type')).toBe('audio/mpeg');
    // Unread, so released as a server releases a body it does not send (the file store holds a descriptor till then).
    await file.body?.cancel();
  });

  test('a generation that fails answers the status of its error code, not 500', async () => {
    const pending = await createRecord('audio');
    // 2 MiB over MAX_FILE_SIZE_MB=1: the generator's FILE_SIZE_EXCEEDED reaches the client as a 413.
    const tooBig = await api.call('POST', `/v1/records/${pending.uid}/generate`, { json: { fileSizeKb: 2048 } });
    expect(await errorOf(tooBig)).toMatchObject({ status: 413, code: 'FILE_SIZE_EXCEEDED' });
    expect(((await (await api.call('GET', `/v1/records/${pending.uid}`)).json()) as { status: string }).status).toBe(
      'pending',
    );
  });
});

describe('API limits and headers', () => {
  let api: TestApi;
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase();
    await database.migrate();
    api = await createTestApi(database, {
      API_RATE_LIMIT_PER_MINUTE: '5',
      API_CORS_ORIGINS: 'https://app.example',
    });
  });
  afterAll(async () => {
    api.close();
    await database.close();
  });

  test('rate limit per key answers 429 with Retry-After; other keys are unaffected', async () => {
    for (let i = 0; i < 5; i += 1) expect((await api.call('GET', '/v1/records')).status).toBe(200);
    const limited = await api.call('GET', '/v1/records');
    expect(await errorOf(limited)).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await api.call('GET', '/v1/records', { as: 'bob' })).status).toBe(200);
  });

  test('CORS for configured origins, security headers and request ids on every response', async () => {
    const preflight = await api.call('OPTIONS', '/v1/records', {
      as: null,
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const other = await api.call('GET', '/health', { as: null, headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(other.headers.get('x-content-type-options')).toBe('nosniff');
    expect(other.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(other.headers.get('x-request-id')).toBeString();
    const given = await api.call('GET', '/health', { as: null, headers: { 'x-request-id': 'trace-123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-123');
  });

  test('a revoked key stops working at once, although the server had it cached', async () => {
    const { ApiKeyStore } = await import('@mediaforge/core');
    const keys = new ApiKeyStore(database.db);
    const { key, info } = await keys.create({ userId: 'carol' });
    const call = () => api.app.request('/v1/records', { headers: { authorization: `Bearer ${key}` } });
    expect((await call()).status).toBe(200);
    await keys.revoke(info.id);
    expect(await keys.verify(key)).toBeNull();
    // The server cached the key for 10 s; the revocation's NOTIFY evicts it (delivered after the commit).
    await Bun.sleep(50);
    expect(await errorOf(await call())).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
  });
});

describe('API files on S3 (s3rver on loopback)', () => {
  let api: TestApi;
  let database: Database;
  let s3: TestS3Server;
  beforeAll(async () => {
    database = await openDatabase();
    await database.migrate();
    s3 = await startS3Server();
    api = await createTestApi(
      database,
      {},
      createS3Store({ bucket: s3.bucket, endpoint: s3.endpoint, ...S3RVER_CREDENTIALS }),
    );
  });
  afterAll(async () => {
    api.close();
    await database.close();
    await s3.close();
  });

  test('GET file redirects to a presigned URL that serves the stored bytes; redirect=false streams', async () => {
    const created = await api.call('POST', '/v1/records', { json: { mediaType: 'audio' } });
    const { uid } = (await created.json()) as { uid: string };
    const upload = await api.call('POST', `/v1/records/${uid}/file`, { body: fixture('fixture.mp3') });
    expect(upload.status).toBe(201);
    // A private bucket: the record keeps the stable s3:// reference, the API shows the route that presigns.
    expect(((await upload.json()) as { record: { fileUrl: string } }).record.fileUrl).toBe(`/v1/records/${uid}/file`);
    const [row] = await database.db.select().from(records).where(eq(records.uid, uid));
    expect(row?.fileUrl).toBe(`s3://${s3.bucket}/audio/${uid}.mp3`);
    const original = await fixture('fixture.mp3').bytes();
    const redirect = await api.call('GET', `/v1/records/${uid}/file`);
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('location') as string;
    expect(location).toContain('X-Amz-Signature');
    expect(new Uint8Array(await (await fetch(location)).arrayBuffer())).toEqual(original);
    const streamed = await api.call('GET', `/v1/records/${uid}/file?redirect=false`, {
      headers: { range: 'bytes=0-99' },
    });
    expect(streamed.status).toBe(206);
    expect(new Uint8Array(await streamed.arrayBuffer())).toEqual(original.slice(0, 100));
  });

  test('a public bucket: file_url is the public object URL, and GET file redirects there unsigned', async () => {
    const publicApi = await createTestApi(
      database,
      {},
      createS3Store({ bucket: s3.bucket, endpoint: s3.endpoint, ...S3RVER_CREDENTIALS, publicBucket: true }),
    );
    try {
      const created = await publicApi.call('POST', '/v1/records', { json: { mediaType: 'audio' } });
      const { uid } = (await created.json()) as { uid: string };
      const upload = await publicApi.call('POST', `/v1/records/${uid}/file`, { body: fixture('fixture.mp3') });
      expect(upload.status).toBe(201);
      const publicUrl = `${s3.endpoint}/${s3.bucket}/audio/${uid}.mp3`;
      expect(((await upload.json()) as { record: { fileUrl: string } }).record.fileUrl).toBe(publicUrl);
      const [row] = await database.db.select().from(records).where(eq(records.uid, uid));
      expect(row?.fileUrl).toBe(publicUrl);
      // Read anonymously, as a browser would: no credentials, no signature.
      const original = await fixture('fixture.mp3').bytes();
      expect(new Uint8Array(await (await fetch(publicUrl)).arrayBuffer())).toEqual(original);
      const redirect = await publicApi.call('GET', `/v1/records/${uid}/file`);
      expect(redirect.status).toBe(302);
      expect(redirect.headers.get('location')).toBe(publicUrl);
    } finally {
      publicApi.close();
    }
  });
});
