/**
 * A video's thumbnail costs what its frame size makes it cost, not its bytes: a frame past the images' pixel cap is
 * skipped before ffmpeg is spawned, a header that understates the frame is caught by ffmpeg's own pixel cap, and a
 * frame under the cap is scaled by ffmpeg before it is piped back. Real ffmpeg-made files; ffmpeg's peak memory is
 * measured by /usr/bin/time.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { largeFrameVideo, manyStreamVideo, referenceFrameVideo } from '../../testing/large-frame-video.ts';
import { type RecordedFfmpeg, recordedFfmpeg } from '../../testing/recorded-ffmpeg.ts';
import { largestVideoFrame } from '../validate/media-info.ts';
import { validateFileIntegrity } from '../validate/validate.ts';
import { makeThumbnail } from './make-thumbnail.ts';

const work = mkdtempSync(join(tmpdir(), 'mediaforge-frame-bounds-'));
let ffmpeg: RecordedFfmpeg;
beforeAll(async () => {
  ffmpeg = await recordedFfmpeg();
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const MiB = 1024;

/** The video as the upload path sees it: validated, with the largest frame its container declares. */
async function validated(path: string) {
  const details = await validateFileIntegrity(Bun.file(path), 'video/mp4');
  return { details, source: { mediaType: 'video' as const, path, frame: largestVideoFrame(details) } };
}

test('a frame past the pixel cap is skipped with its size as the reason, before ffmpeg is spawned', async () => {
  // A small track first: the container's first frame size is 96 × 64, and ffmpeg would pick the large one.
  const path = await largeFrameVideo(
    join(work, 'two-tracks.mp4'),
    { width: 7200, height: 7200 },
    { leading: { width: 96, height: 64 } },
  );
  const { details, source } = await validated(path);
  expect(details).toMatchObject({ width: 96, height: 64, tracks: { video: 2, audio: 0 } });
  const result = await makeThumbnail(source, { ffmpeg: ffmpeg.path });
  expect(result).toMatchObject({ ok: false, skipped: true });
  expect(result.ok ? '' : result.reason).toContain('7200 × 7200 frames (51.8 MP)');
  expect(await ffmpeg.peaksKiB()).toEqual([]);
});

test('a header that understates the frame: ffmpeg refuses the frame at its pixel cap, quickly and in little memory', async () => {
  const path = await largeFrameVideo(
    join(work, 'lying.mp4'),
    { width: 8000, height: 8000 },
    { headerSays: { width: 320, height: 240 } },
  );
  const { details, source } = await validated(path);
  expect(details).toMatchObject({ width: 320, height: 240 });
  const before = (await ffmpeg.peaksKiB()).length;
  const started = performance.now();
  const result = await makeThumbnail(source, { ffmpeg: ffmpeg.path });
  const elapsed = performance.now() - started;
  expect(result.ok).toBe(false);
  expect(result.ok ? '' : result.reason).toContain('Picture size 8000x8000 exceeds specified max pixel count');
  const peaks = (await ffmpeg.peaksKiB()).slice(before);
  expect(peaks.length).toBeGreaterThan(0);
  // Decoding the whole 64 MP frame and encoding it as PNG took ~500 MiB; refused at the header, ~55 MiB.
  expect(Math.max(...peaks)).toBeLessThan(150 * MiB);
  expect(elapsed).toBeLessThan(3_000);
});

/** The thumbnail of the validated video at `path`, with the peak memory and CPU of the ffmpeg runs it took. */
async function thumbnailOf(path: string) {
  const { details, source } = await validated(path);
  const before = (await ffmpeg.peaksKiB()).length;
  const made = await makeThumbnail(source, { ffmpeg: ffmpeg.path });
  if (!made.ok) throw new Error(made.reason);
  const peaks = (await ffmpeg.peaksKiB()).slice(before);
  const cpu = (await ffmpeg.cpuSeconds()).slice(before).reduce((sum, seconds) => sum + seconds, 0);
  return { details, made, peaks, cpu };
}

test('a frame under the cap is scaled down by ffmpeg itself: the thumbnail is made and the full frame never encoded', async () => {
  const { made, peaks } = await thumbnailOf(
    await largeFrameVideo(join(work, 'large.mp4'), { width: 7000, height: 7000 }),
  );
  expect([made.width, made.height]).toEqual([256, 256]);
  // Its only frame is at 0 s: the try 0.1 s in finds none, the try from the start makes the thumbnail.
  expect(peaks.length).toBeGreaterThan(0);
  // Encoding the 49 MP frame as PNG peaked at ~420 MiB; scaled first, ~125 MiB.
  expect(Math.max(...peaks)).toBeLessThan(250 * MiB);
});

test('many streams each under the cap cost one: ffmpeg probes headers, not a decoded frame of every stream', async () => {
  const path = await manyStreamVideo(join(work, 'many-streams.mp4'), { width: 7000, height: 7000 }, 8);
  const { details, made, peaks } = await thumbnailOf(path);
  expect(details).toMatchObject({ tracks: { video: 8 } });
  expect([made.width, made.height]).toEqual([256, 256]);
  // Probing decoded a frame of each of the 8 streams: ~1 GB (40 streams: 4.2 GB); headers only: ~180 MB.
  expect(Math.max(...peaks)).toBeLessThan(400 * MiB);
});

test('a stream asking for 16 reference frames costs one keyframe, not the frames it refers to', async () => {
  // 30 frames of 41 MP (3.8 s to make): decoding them held 16 references, 1.47 GB; keyframes only, ~150 MB.
  const shape = { frames: 30, fps: 200 };
  const path = await referenceFrameVideo(join(work, 'references.mp4'), { width: 6400, height: 6400 }, shape);
  const { peaks } = await thumbnailOf(path);
  expect(Math.max(...peaks)).toBeLessThan(400 * MiB);
});

test('a seek through thousands of frames decodes one: a decode slot is not held while every frame is decoded', async () => {
  // 1,100 frames at 10,000 a second: the seek to 0.1 s decoded ~1,000 of them (1.3 s of CPU at 4 MP; the attacker's
  // 26 MP version held a slot, and every other user's images behind it, for 9 s). Now ~0.1 s for both tries.
  const shape = { frames: 1100, fps: 10_000 };
  const { cpu } = await thumbnailOf(
    await referenceFrameVideo(join(work, 'seek.mp4'), { width: 2048, height: 2048 }, shape),
  );
  expect(cpu).toBeLessThan(0.6);
});
