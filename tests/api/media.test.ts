/** The API's media metadata, record filters, upload filters, original names and generation view. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { join } from 'node:path';
import { objects } from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import { sql } from 'drizzle-orm';
import { createTestApi, errorOf, FIXTURES, type TestApi } from './support.ts';

const fixture = (name: string) => Bun.file(join(FIXTURES, name));

describeBackends('API media', (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(backend.database(), { MAX_FILE_SIZE_MB: '1' });
  });
  afterAll(() => api.close());

  const createRecord = async (mediaType: string, generationId: string, as: 'alice' | 'bob' = 'alice') => {
    const response = await api.call('POST', '/v1/records', { as, json: { mediaType, generationId } });
    expect(response.status).toBe(201);
    return (await response.json()) as { uid: string; updatedAt: string };
  };
  const objectCount = async () => {
    const [row] = await api.database.db.select({ n: sql<number>`count(*)::int` }).from(objects);
    return row?.n;
  };

  test('an upload returns typed media fields and the multipart file name; filters refuse and change nothing', async () => {
    const video = await createRecord('video', 'gen-api');
    const before = await api.call('GET', `/v1/records/${video.uid}`);
    const beforeBody = await before.json();
    const count = await objectCount();

    const refused = await api.call('POST', `/v1/records/${video.uid}/file?allowedTypes=image,audio/*`, {
      body: fixture('fixture-av.mp4'),
    });
    expect(await errorOf(refused)).toMatchObject({ status: 415, code: 'FILE_TYPE_NOT_ALLOWED' });
    const tooSmall = await api.call('POST', `/v1/records/${video.uid}/file?maxSizeMb=0.001`, {
      body: fixture('fixture-av.mp4'),
    });
    expect(await errorOf(tooSmall)).toMatchObject({ status: 413, code: 'FILE_SIZE_EXCEEDED' });
    const raise = await api.call('POST', `/v1/records/${video.uid}/file?maxSizeMb=5`, { body: fixture('fixture.mp4') });
    expect(await errorOf(raise)).toMatchObject({ status: 403, code: 'OPTION_NOT_ALLOWED' });
    const unknown = await api.call('POST', `/v1/records/${video.uid}/file?allowedTypes=application/pdf`, {
      body: fixture('fixture.mp4'),
    });
    expect(await errorOf(unknown)).toMatchObject({ status: 400, code: 'VALIDATION_ERROR' });
    expect(await (await api.call('GET', `/v1/records/${video.uid}`)).json()).toEqual(beforeBody);
    expect(await objectCount()).toBe(count);

    const form = new FormData();
    form.set('allowedTypes', 'video');
    form.set('file', new File([await fixture('fixture-av.mp4').arrayBuffer()], '../photos/holiday\u202Eclip.mp4'));
    const stored = await api.call('POST', `/v1/records/${video.uid}/file`, { body: form });
    expect(stored.status).toBe(201);
    const { record } = (await stored.json()) as { record: Record<string, unknown> };
    expect(record).toMatchObject({
      width: 96,
      height: 64,
      durationSeconds: 1,
      originalName: 'holiday_clip.mp4',
      mediaInfo: { frameRate: 10, sampleRate: 44100, channels: 1, tracks: { video: 1, audio: 1 } },
    });
  });

  test('GET /v1/records filters on duration and dimensions, with bounds checked', async () => {
    const audio = await createRecord('audio', 'gen-api');
    const up = await api.call('POST', `/v1/records/${audio.uid}/file?fileName=tone.wav`, {
      body: fixture('fixture.wav'),
    });
    expect(up.status).toBe(201);
    const uids = async (query: string) => {
      const response = await api.call('GET', `/v1/records?${query}`);
      expect(response.status).toBe(200);
      return ((await response.json()) as { items: { uid: string; mediaType: string }[] }).items.map((r) => r.mediaType);
    };
    expect(await uids('minWidth=90&maxWidth=100')).toEqual(['video']);
    expect(await uids('minDuration=0.5&maxDuration=1.5&status=uploaded')).toEqual(['video', 'audio']);
    expect(await uids('minDuration=2')).toEqual([]);
    // An empty bound (an empty form field) is no bound; it was read as 0 and matched nothing.
    expect(await uids('minWidth=&maxWidth=&minDuration=')).toEqual(await uids(''));
    expect((await uids('')).length).toBeGreaterThan(1);
    const bads = ['minWidth=-1', 'maxDuration=abc', 'minHeight=1e12', 'minDuration=3&maxDuration=1', 'minWidth=1.5'];
    // Only plain decimal digits: whitespace was read as 0, and hex, binary and octal as numbers.
    bads.push('maxWidth=%20', 'minWidth=0x10', 'minHeight=0b11', 'maxDuration=0o7', 'minDuration=%2B1', 'maxWidth=1e3');
    for (const bad of bads) {
      const error = await errorOf(await api.call('GET', `/v1/records?${bad}`));
      expect(error).toMatchObject({ status: 400, code: 'VALIDATION_ERROR' });
      // It says what is wanted, not how the parser failed ("received NaN" for `-1`).
      expect(JSON.stringify(error), bad).not.toContain('NaN');
    }
    // Bob sees none of Alice's records, whatever the filter.
    const bob = await api.call('GET', '/v1/records?minDuration=0', { as: 'bob' });
    expect(((await bob.json()) as { items: unknown[] }).items).toEqual([]);
  });

  test('GET /v1/generations/{id} lists the owner’s media with status; others get 404', async () => {
    await createRecord('image', 'gen-api');
    const response = await api.call('GET', '/v1/generations/gen-api');
    expect(response.status).toBe(200);
    const view = (await response.json()) as {
      counts: Record<string, number>;
      media: { status: string; originalName: string | null }[];
      truncated: boolean;
    };
    expect(view.counts).toMatchObject({ total: 3, uploaded: 2, pending: 1 });
    expect(view.media.map((m) => m.status)).toEqual(['uploaded', 'uploaded', 'pending']);
    expect(view.media.map((m) => m.originalName)).toEqual(['holiday_clip.mp4', 'tone.wav', null]);
    const limited = (await (await api.call('GET', '/v1/generations/gen-api?limit=1')).json()) as typeof view;
    expect([limited.media.length, limited.truncated]).toEqual([1, true]);
    expect(await errorOf(await api.call('GET', '/v1/generations/gen-api', { as: 'bob' }))).toMatchObject({
      status: 404,
      code: 'GENERATION_NOT_FOUND',
    });
    expect((await api.call('GET', '/v1/generations/gen-api', { as: 'admin' })).status).toBe(200);
  });

  test('POST /v1/ingest checks allowedTypes and headers before queueing anything', async () => {
    const ingest = (options: unknown) =>
      api.call('POST', '/v1/ingest', { json: { urls: ['https://example.com/a.jpg'], options } });
    expect(await errorOf(await ingest({ allowedTypes: ['nope'] }))).toMatchObject({
      status: 400,
      code: 'VALIDATION_ERROR',
    });
    expect(await errorOf(await ingest({ headers: { Host: 'internal' } }))).toMatchObject({
      status: 400,
      code: 'INVALID_HEADERS',
    });
    // No INGEST_HEADERS_KEY on this server: headers cannot be kept for a worker, so they are refused.
    const noKey = await errorOf(await ingest({ headers: { authorization: 'Bearer x' } }));
    expect(noKey).toMatchObject({ status: 400, code: 'INVALID_HEADERS' });
    expect(noKey.message).toContain('INGEST_HEADERS_KEY');
    const tasks = (await (await api.call('GET', '/v1/tasks')).json()) as { items: unknown[] };
    expect(tasks.items).toEqual([]);
    expect((await ingest({ allowedTypes: ['image'] })).status).toBe(202);
  });
});
