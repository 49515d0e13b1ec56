import { expect, test } from 'bun:test';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageDecodes } from '../decode-budget.ts';
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

/** A stand-in ffmpeg that records its pid, then runs `command` in its place. */
async function fakeFfmpeg(command: string): Promise<{ path: string; pid: () => Promise<number> }> {
  const dir = mkdtempSync(join(tmpdir(), 'mediaforge-thumb-'));
  const path = join(dir, 'ffmpeg');
  await Bun.write(path, `#!/bin/sh\necho $$ > ${dir}/pid\nexec ${command}\n`);
  chmodSync(path, 0o755);
  return { path, pid: async () => Number((await Bun.file(join(dir, 'pid')).text()).trim()) };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('a video frame decodes in an image-decode slot, under its owner, and ffmpeg is killed when its budget runs out', async () => {
  const video = { mediaType: 'video' as const, path: join(fixtures, 'fixture.mp4') };
  const hung = await fakeFfmpeg('sleep 30');
  const before = imageDecodes.active;
  const running = makeThumbnail(video, { ffmpeg: hung.path, timeoutMs: 1500, owner: 'mallory' });
  await Bun.sleep(500);
  expect(imageDecodes.active).toBe(before + 1);
  const pid = await hung.pid();
  expect(alive(pid)).toBe(true);
  const result = await running;
  expect(result.ok ? '' : result.reason).toContain('took longer than 1500 ms');
  expect(imageDecodes.active).toBe(before);
  expect(alive(pid)).toBe(false);
});

test('an ffmpeg that floods its output is stopped at the frame cap, not left running', async () => {
  const video = { mediaType: 'video' as const, path: join(fixtures, 'fixture.mp4') };
  // It ignores SIGPIPE and keeps writing, so only a kill stops it once its output is no longer read.
  const flood = await fakeFfmpeg(`sh -c "trap '' PIPE; while :; do head -c 1048576 /dev/zero 2>/dev/null; done"`);
  const result = await makeThumbnail(video, { ffmpeg: flood.path, timeoutMs: 20_000 });
  expect(result.ok ? '' : result.reason).toContain('larger than 4 MiB');
  await Bun.sleep(100);
  expect(alive(await flood.pid())).toBe(false);
});
