import { expect, test } from 'bun:test';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeThumbnail } from './make-thumbnail.ts';

const fixtures = join(import.meta.dir, '../../../test/fixtures');

test('an image becomes a WebP no larger than 256 px; bytes that are no image fail without throwing', async () => {
  const made = await makeThumbnail({
    mediaType: 'image',
    bytes: await Bun.file(join(fixtures, 'fixture.jpg')).bytes(),
  });
  if (!made.ok) throw new Error(made.reason);
  expect(new TextDecoder().decode(made.data.subarray(8, 12))).toBe('WEBP');
  expect(Math.max(made.width, made.height)).toBeLessThanOrEqual(256);
  const bad = await makeThumbnail({ mediaType: 'image', bytes: new Uint8Array([1, 2, 3, 4]) });
  expect(bad.ok).toBe(false);
});

test('a video without ffmpeg, a hung ffmpeg and an undecodable video each fail with a reason', async () => {
  const video = { mediaType: 'video' as const, path: join(fixtures, 'fixture.mp4') };
  const absent = await makeThumbnail(video, { ffmpeg: null });
  expect(absent).toEqual({ ok: false, reason: 'video thumbnails need ffmpeg on PATH' });
  const dir = mkdtempSync(join(tmpdir(), 'mediaforge-thumb-'));
  const hung = join(dir, 'ffmpeg');
  await Bun.write(hung, '#!/bin/sh\nexec sleep 30\n');
  chmodSync(hung, 0o755);
  const started = performance.now();
  const slow = await makeThumbnail(video, { ffmpeg: hung, timeoutMs: 300 });
  expect(slow.ok).toBe(false);
  expect(slow.ok ? '' : slow.reason).toContain('took longer than 300 ms');
  expect(performance.now() - started).toBeLessThan(5_000);
  const text = await makeThumbnail({ mediaType: 'video', path: join(fixtures, 'fixture.txt') });
  expect(text.ok).toBe(false);
  expect(await makeThumbnail({ mediaType: 'audio' })).toMatchObject({ ok: false });
});
