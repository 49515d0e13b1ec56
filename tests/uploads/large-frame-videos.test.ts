/**
 * A video whose frames pass the images' pixel cap (the thumbnail bomb: a 9 MB MOV of 16000 × 16000 frames took ffmpeg
 * 8 GB) is stored, with its size, and gets no thumbnail: ffmpeg is never spawned for it, and the upload's result says
 * why. A small video uploaded beside it still gets its thumbnail from the same ffmpeg, so the spy does see runs.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_USERS, RecordRepository, storeUpload } from '@mediaforge/core';
import { describeBackends, largeFrameVideo, type RecordedFfmpeg, recordedFfmpeg } from '@mediaforge/core/testing';
import { createTestApi, FIXTURES, type TestApi } from '../api/support.ts';

describeBackends('a video whose frames pass the pixel cap', (backend) => {
  let api: TestApi;
  let ffmpeg: RecordedFfmpeg;
  let bomb: string;
  const path = process.env.PATH;
  beforeAll(async () => {
    api = await createTestApi(backend.database(), { MAX_FILE_SIZE_MB: '5' });
    bomb = await largeFrameVideo(join(mkdtempSync(join(tmpdir(), 'mediaforge-large-frame-')), 'bomb.mp4'), {
      width: 7200,
      height: 7200,
    });
    // Thumbnails find ffmpeg on PATH: the recorded one comes first.
    ffmpeg = await recordedFfmpeg();
    process.env.PATH = `${ffmpeg.dir}:${path}`;
  });
  afterAll(async () => {
    process.env.PATH = path;
    await api.close();
  });

  const upload = async (file: string) => {
    const made = await api.call('POST', '/v1/records', { json: { mediaType: 'video' } });
    const { uid } = (await made.json()) as { uid: string };
    const response = await api.call('POST', `/v1/records/${uid}/file`, { body: Bun.file(file) });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { record: Record<string, unknown>; thumbnail?: Record<string, unknown> };
    lastThumbnail = body.thumbnail;
    return body.record;
  };
  let lastThumbnail: Record<string, unknown> | undefined;

  test('through the API: stored with its size and no thumbnail, without ffmpeg ever running for it', async () => {
    const record = await upload(bomb);
    expect(record).toMatchObject({ status: 'uploaded', width: 7200, height: 7200 });
    expect(lastThumbnail).toMatchObject({
      status: 'skipped',
      reason: expect.stringContaining('larger than the 50 MP'),
    });
    expect((await api.call('GET', `/v1/records/${record.uid}/thumbnail`)).status).toBe(404);
    expect(await ffmpeg.peaksKiB()).toEqual([]);
    const small = await upload(join(FIXTURES, 'fixture.mp4'));
    expect(lastThumbnail).toMatchObject({ status: 'stored', width: expect.any(Number), height: expect.any(Number) });
    expect((await api.call('GET', `/v1/records/${small.uid}/thumbnail`)).status).toBe(200);
    expect((await ffmpeg.peaksKiB()).length).toBeGreaterThan(0);
  });

  test("the upload's result says the thumbnail was skipped, and why", async () => {
    const db = api.database.db;
    const [record] = await new RecordRepository(db).createMany([{ mediaType: 'video' }], ALL_USERS);
    const runs = (await ffmpeg.peaksKiB()).length;
    const stored = await storeUpload(record?.uid as string, Bun.file(bomb).stream(), {
      db,
      store: api.store,
      settings: api.settings,
      scope: ALL_USERS,
      thumbnails: true,
    });
    expect(stored.record).toMatchObject({ status: 'uploaded', width: 7200, thumbnailKey: null });
    expect(stored.thumbnail).toMatchObject({ status: 'skipped' });
    expect(stored.thumbnail?.status === 'skipped' ? stored.thumbnail.reason : '').toContain(
      '7200 × 7200 frames (51.8 MP) are larger than the 50 MP a thumbnail may decode',
    );
    expect((await ffmpeg.peaksKiB()).length).toBe(runs);
  });

  test("a thumbnail that fails is 'failed' in the 201 body without the decoder's message; the file is stored", async () => {
    const broken = mkdtempSync(join(tmpdir(), 'mediaforge-broken-ffmpeg-'));
    await Bun.write(join(broken, 'ffmpeg'), '#!/bin/sh\necho "/var/secret/spool-1234: decode error" >&2\nexit 1\n');
    await Bun.spawn(['chmod', '+x', join(broken, 'ffmpeg')]).exited;
    const before = process.env.PATH;
    process.env.PATH = `${broken}:${path}`;
    try {
      const record = await upload(join(FIXTURES, 'fixture.mp4'));
      expect(record).toMatchObject({ status: 'uploaded', thumbnailUrl: null });
      expect(lastThumbnail).toEqual({
        status: 'failed',
        reason: 'The thumbnail could not be made; the file is stored without one.',
      });
    } finally {
      process.env.PATH = before;
    }
  });
});
