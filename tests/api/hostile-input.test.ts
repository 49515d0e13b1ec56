/**
 * What two attackers found left open (issue 18, second round), each checked through the app on PostgreSQL: made-up
 * keys limited per address, method/path override headers refused, user tasks kept off the operator's queues,
 * multipart fields and query parameters that disagree, numbers JSON cannot hold, long names cut keeping the extension.
 */
import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { AUTH_FAILURE_LIMITS } from '@mediaforge/api';
import { records, registerWorker } from '@mediaforge/core';
import { eq } from 'drizzle-orm';
import { errorOf, FIXTURES, useApiOnPostgres } from './support.ts';

const setup = useApiOnPostgres({ MAX_FILE_SIZE_MB: '1' });

const createRecord = async (mediaType = 'text') => {
  const response = await setup.api.call('POST', '/v1/records', { json: { mediaType } });
  expect(response.status).toBe(201);
  return ((await response.json()) as { uid: string }).uid;
};

describe('keys', () => {
  const madeUp = (i: number) => `mfk_${i.toString(16).padStart(12, '0')}_${'y'.repeat(43)}`;
  const from = (address: string, key: string) =>
    setup.api.app.request('/v1/records', { headers: { authorization: `Bearer ${key}` } }, { clientAddress: address });

  test('an address past its failed key checks gets 429 RATE_LIMITED with Retry-After; other addresses do not', async () => {
    expect((await from('198.51.100.7', setup.api.keys.alice)).status).toBe(200);
    for (let i = 0; i < AUTH_FAILURE_LIMITS.perMinute; i++) {
      expect((await from('198.51.100.7', madeUp(i))).status).toBe(401);
    }
    const limited = await from('198.51.100.7', madeUp(1000));
    expect(await errorOf(limited)).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // The session sign-in checks keys too, and is limited the same way.
    const signIn = await setup.api.app.request(
      '/session',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: madeUp(1) }) },
      { clientAddress: '198.51.100.7' },
    );
    expect(signIn.status).toBe(429);
    // A key verified moments ago is still served there; another address is untouched.
    expect((await from('198.51.100.7', setup.api.keys.alice)).status).toBe(200);
    expect((await from('198.51.100.8', madeUp(1000))).status).toBe(401);
  });
});

describe('override headers', () => {
  test('X-HTTP-Method-Override, X-Original-URL and X-Rewrite-URL are refused with 400 INVALID_HEADERS', async () => {
    const uid = await createRecord();
    const override = await setup.api.call('POST', `/v1/records/${uid}`, {
      headers: { 'X-HTTP-Method-Override': 'DELETE' },
    });
    expect(await errorOf(override)).toMatchObject({ status: 400, code: 'INVALID_HEADERS' });
    expect((await setup.api.call('GET', `/v1/records/${uid}`)).status).toBe(200);
    for (const header of ['X-Original-URL', 'X-Rewrite-URL']) {
      const rewritten = await setup.api.call('GET', '/v1/records', { headers: { [header]: `/v1/records/${uid}` } });
      expect(await errorOf(rewritten)).toMatchObject({ status: 400, code: 'INVALID_HEADERS' });
      const anonymous = await setup.api.call('GET', '/health', { as: null, headers: { [header]: '/metrics' } });
      expect(anonymous.status).toBe(400);
    }
  });
});

describe('queues', () => {
  test('a non-admin key may not route tasks onto the maintenance or optimization queues (403); an admin may', async () => {
    await registerWorker(setup.api.database.db, {
      id: 'w-all',
      host: 'h',
      pid: 1,
      queues: ['default', 'maintenance', 'optimization'],
      concurrency: 1,
    });
    const urls = ['https://example.com/a.png'];
    for (const queue of ['maintenance', 'optimization']) {
      const ingest = await setup.api.call('POST', '/v1/ingest', { json: { urls, queue } });
      expect(await errorOf(ingest)).toMatchObject({ status: 403, code: 'OPTION_NOT_ALLOWED' });
      await createRecord('image');
      const generate = await setup.api.call('POST', '/v1/generate', { json: { auto: {}, queue } });
      expect(await errorOf(generate)).toMatchObject({ status: 403, code: 'OPTION_NOT_ALLOWED' });
    }
    expect((await setup.api.call('POST', '/v1/ingest', { json: { urls, queue: 'default' } })).status).toBe(202);
    expect(
      (await setup.api.call('POST', '/v1/ingest', { as: 'admin', json: { urls, queue: 'maintenance' } })).status,
    ).toBe(202);
  });
});

describe('request bodies', () => {
  test('a multipart field and a query parameter that disagree are refused (400); agreeing ones are fine', async () => {
    const png = await Bun.file(join(FIXTURES, 'fixture.png')).bytes();
    const form = (replace: string) => {
      const data = new FormData();
      data.append('replace', replace);
      data.append('file', new Blob([png], { type: 'image/png' }), 'a.png');
      return data;
    };
    const uid = await createRecord('image');
    expect((await setup.api.call('POST', `/v1/records/${uid}/file`, { body: form('false') })).status).toBe(201);
    const conflict = await setup.api.call('POST', `/v1/records/${uid}/file?replace=true`, { body: form('false') });
    const error = await errorOf(conflict);
    expect(error).toMatchObject({ status: 400, code: 'VALIDATION_ERROR' });
    expect(error.message).toContain('replace');
    const [record] = await setup.api.database.db.select().from(records).where(eq(records.uid, uid));
    expect(record?.status).toBe('uploaded');
    const agreed = await setup.api.call('POST', `/v1/records/${uid}/file?replace=true`, { body: form('true') });
    expect(agreed.status).toBe(201);
  });

  test('metadata numbers JSON cannot hold (1e400) are refused with 400, not stored as null', async () => {
    for (const metadata of ['{"n":1e400}', '{"deep":{"list":[1,-1e999]}}']) {
      const response = await setup.api.call('POST', '/v1/records', {
        body: `{"mediaType":"text","metadata":${metadata}}`,
        headers: { 'content-type': 'application/json' },
      });
      expect(await errorOf(response)).toMatchObject({ status: 400, code: 'VALIDATION_ERROR' });
    }
    const fine = await setup.api.call('POST', '/v1/records', { json: { mediaType: 'text', metadata: { n: 1e300 } } });
    expect(((await fine.json()) as { metadata: { n: number } }).metadata.n).toBe(1e300);
  });

  test('text with a lone surrogate (\\ud800 in JSON) is refused with 400 in every field, not stored as U+FFFD', async () => {
    const generationId = `lone-${Date.now()}`;
    for (const field of ['"title":"t\\ud800"', '"generationId":"\\udc00"', '"metadata":{"k":"\\ud800"}']) {
      const response = await setup.api.call('POST', '/v1/records', {
        body: `{"mediaType":"text","generationId":"${generationId}",${field}}`,
        headers: { 'content-type': 'application/json' },
      });
      const error = await errorOf(response);
      expect(error.status).toBe(400);
      expect(error.message).toContain('valid Unicode');
    }
    const task = await setup.api.call('POST', '/v1/ingest', {
      body: '{"urls":["http://example.com/\\ud800.wav"]}',
      headers: { 'content-type': 'application/json' },
    });
    expect(await errorOf(task)).toMatchObject({ status: 400, code: 'INVALID_INPUT' });
    const listed = await setup.api.call('GET', `/v1/records?generationId=${generationId}`);
    expect(((await listed.json()) as { items: unknown[] }).items).toEqual([]);
  });

  test('a JSON body whose bytes are not UTF-8 is refused with 400, not stored as U+FFFD (attacker, session 17)', async () => {
    const generationId = `bytes-${Date.now()}`;
    const encoder = new TextEncoder();
    const body = new Uint8Array([
      ...encoder.encode(`{"mediaType":"text","generationId":"${generationId}","title":"a`),
      0xff,
      0xfe,
      ...encoder.encode('"}'),
    ]);
    const response = await setup.api.call('POST', '/v1/records', {
      body,
      headers: { 'content-type': 'application/json' },
    });
    expect(await errorOf(response)).toMatchObject({ status: 400, code: 'INVALID_INPUT' });
    const listed = await setup.api.call('GET', `/v1/records?generationId=${generationId}`);
    expect(((await listed.json()) as { items: unknown[] }).items).toEqual([]);
    // Valid UTF-8, U+FFFD included when the client sent it, is taken as it is.
    const fine = await setup.api.call('POST', '/v1/records', { json: { mediaType: 'text', title: 'é \ufffd 🎵' } });
    expect(((await fine.json()) as { title: string }).title).toBe('é \ufffd 🎵');
  });

  test('an empty file is 400 INVALID_SIZE however it comes: a length of 0, an empty chunked body, an empty part', async () => {
    const uid = await createRecord('audio');
    const empty = new ReadableStream<Uint8Array>({ start: (controller) => controller.close() });
    const multipart = '--XX\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n\r\n--XX--\r\n';
    for (const init of [
      { body: '' },
      { body: empty },
      { body: multipart, headers: { 'content-type': 'multipart/form-data; boundary=XX' } },
    ]) {
      const response = await setup.api.call('POST', `/v1/records/${uid}/file`, init);
      expect(await errorOf(response)).toMatchObject({
        status: 400,
        code: 'INVALID_SIZE',
        message: 'The file is empty (0 bytes): there is nothing to store.',
      });
    }
    const record = (await (await setup.api.call('GET', `/v1/records/${uid}`)).json()) as { status: string };
    expect(record.status).toBe('pending');
  });

  test('a resumable upload named past 255 characters keeps its extension', async () => {
    const uid = await createRecord('image');
    const png = await Bun.file(join(FIXTURES, 'fixture.png')).bytes();
    const name = `${'n'.repeat(300)}.png`;
    const meta = { recordUid: uid, filetype: 'image/png', filename: name };
    const response = await setup.api.call('POST', '/v1/uploads', {
      body: png,
      headers: {
        'Tus-Resumable': '1.0.0',
        'Upload-Length': String(png.byteLength),
        'Upload-Metadata': Object.entries(meta)
          .map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`)
          .join(','),
        'Content-Type': 'application/offset+octet-stream',
      },
    });
    expect(response.status).toBe(201);
    const [record] = await setup.api.database.db.select().from(records).where(eq(records.uid, uid));
    expect(record?.originalName).toEndWith('n.png');
    expect(record?.originalName?.length).toBe(255);
  });
});
