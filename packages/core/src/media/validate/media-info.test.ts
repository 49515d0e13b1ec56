/**
 * The metadata the validators read, checked against ffprobe (and ImageMagick for EXIF orientation) on the fixture
 * corpus and on richer files ffmpeg makes here: stereo 48 kHz audio beside 25 fps video, a rotated JPEG.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffprobe, type Probe } from '../../testing/ffprobe.ts';
import { requireTool } from '../../testing/system-tools.ts';
import { loadSharp } from '../load-sharp.ts';
import { supportedTypeForExtension } from '../supported.ts';
import type { MediaInfo } from './media-info.ts';
import { validateFileIntegrity } from './validate.ts';

const FIXTURES = join(import.meta.dir, '../../../test/fixtures');
const work = mkdtempSync(join(tmpdir(), 'mf-media-info-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const rate = (fraction = '0/0') => {
  const [n = 0, d = 0] = fraction.split('/').map(Number);
  return d ? n / d : 0;
};

/** ffprobe's codec names for what containers tag, where the two differ only in spelling. */
const sameCodec = (ours: string, theirs: string) => ours === theirs || (ours === 'pcm' && theirs.startsWith('pcm_'));

async function infoOf(path: string): Promise<MediaInfo> {
  const type = supportedTypeForExtension(path.slice(path.lastIndexOf('.')));
  if (!type) throw new Error(`no type for ${path}`);
  return validateFileIntegrity(Bun.file(path), type.mime);
}

/** Every field ffprobe reports for the file agrees with ours. */
async function expectAgreesWithFfprobe(path: string) {
  const info = await infoOf(path);
  const probe = ffprobe(path);
  const av = probe.streams.filter((s) => s.codec_type === 'audio' || s.codec_type === 'video');
  const isImage = info.mediaType === 'image';
  if (isImage) {
    const [image] = av;
    expect(info.width).toBe(image?.width as number);
    expect(info.height).toBe(image?.height as number);
    return info;
  }
  const duration = Number(probe.format.duration);
  expect(Math.abs((info.durationSeconds ?? 0) - duration)).toBeLessThan(0.06);
  const audio = av.find((s) => s.codec_type === 'audio');
  const video = av.find((s) => s.codec_type === 'video');
  if (audio) {
    expect(info.sampleRate).toBe(Number(audio.sample_rate));
    expect(info.channels).toBe(audio.channels as number);
  }
  if (video) {
    expect(info.width).toBe(video.width as number);
    expect(info.height).toBe(video.height as number);
    expect(info.frameRate).toBeCloseTo(rate(video.avg_frame_rate), 2);
  }
  if (info.streams) {
    expect(info.streams.map((s) => s.kind)).toEqual(av.map((s) => s.codec_type as 'audio' | 'video'));
    info.streams.forEach((stream, i) => {
      const theirs = av[i] as Probe['streams'][number];
      expect(sameCodec(stream.codec, theirs.codec_name)).toBe(true);
      if (stream.kind === 'audio') {
        expect(stream.sampleRate).toBe(Number(theirs.sample_rate));
        expect(stream.channels).toBe(theirs.channels as number);
      } else {
        expect([stream.width, stream.height]).toEqual([theirs.width as number, theirs.height as number]);
      }
    });
  } else if (audio) {
    expect(sameCodec(info.codec ?? '', audio.codec_name)).toBe(true);
  }
  return info;
}

describe('media metadata agrees with ffprobe', () => {
  // AVIF: ffprobe reads the still image as a zero-sized stream; the image itself is covered by sharp's decode.
  const corpus = readdirSync(FIXTURES).filter((name) => name.startsWith('fixture') && !/\.(txt|avif)$/.test(name));
  for (const name of corpus) {
    test(name, async () => {
      await expectAgreesWithFfprobe(join(FIXTURES, name));
    });
  }

  const ffmpeg = (out: string, ...args: string[]) => {
    const path = join(work, out);
    execFileSync(requireTool('ffmpeg'), ['-v', 'error', '-y', ...args, path]);
    return path;
  };
  const sources = [
    ...['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=2'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=2', '-ac', '2'],
  ];

  test('MP4: H.264 320×240 at 25 fps beside stereo 48 kHz AAC', async () => {
    const path = ffmpeg('av.mp4', ...sources, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest');
    const info = await expectAgreesWithFfprobe(path);
    expect(info).toMatchObject({ width: 320, height: 240, frameRate: 25, sampleRate: 48000, channels: 2 });
    expect(info.streams?.map((s) => s.codec)).toEqual(['h264', 'aac']);
  });

  test('WebM: VP9 at 25 fps beside stereo Opus', async () => {
    const path = ffmpeg('av.webm', ...sources, '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-c:a', 'libopus');
    const info = await expectAgreesWithFfprobe(path);
    expect(info).toMatchObject({ width: 320, height: 240, sampleRate: 48000, channels: 2 });
    expect(info.streams?.map((s) => s.codec)).toEqual(['vp9', 'opus']);
  });

  test('MOV at 30000/1001 fps keeps the fractional rate', async () => {
    const path = ffmpeg(
      'ntsc.mov',
      ...['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=30000/1001:duration=2'],
      ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p'],
    );
    const info = await expectAgreesWithFfprobe(path);
    expect(info.frameRate).toBeCloseTo(29.97, 2);
  });

  test("an MP4's display rotation is read from the track header, as ffprobe reports it", async () => {
    for (const rotate of ['90', '180', '270']) {
      const path = ffmpeg(
        `rotated-${rotate}.mp4`,
        '-i',
        join(FIXTURES, 'fixture.mp4'),
        '-c',
        'copy',
        '-metadata:s:v:0',
        `rotate=${rotate}`,
      );
      const out = execFileSync(requireTool('ffprobe'), [
        ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream_side_data=rotation'],
        ...['-of', 'csv=p=0', path],
      ]);
      const info = await expectAgreesWithFfprobe(path);
      expect(info.rotation).toBe(Number(out.toString().trim()));
      expect(info.streams?.[0]?.rotation).toBe(info.rotation);
    }
    expect((await infoOf(join(FIXTURES, 'fixture.mp4'))).rotation).toBeUndefined();
  });

  test('stereo 16-bit WAV and FLAC say their sample width', async () => {
    for (const out of ['tone.wav', 'tone.flac']) {
      const path = ffmpeg(out, ...sources.slice(4), '-sample_fmt', 's16');
      const info = await expectAgreesWithFfprobe(path);
      expect(info).toMatchObject({ channels: 2, sampleRate: 48000, bitsPerSample: 16 });
    }
  });

  test("a JPEG's EXIF orientation is read, as ImageMagick reads it", async () => {
    const path = join(work, 'rotated.jpg');
    const sharp = await loadSharp();
    await sharp(join(FIXTURES, 'fixture.jpg')).withMetadata({ orientation: 6 }).jpeg().toFile(path);
    requireTool('/usr/bin/convert');
    const oracle = execFileSync('/usr/bin/identify', ['-format', '%[orientation]', path]).toString();
    expect(oracle).toBe('RightTop');
    const info = await expectAgreesWithFfprobe(path);
    expect(info.orientation).toBe(6);
    expect((await infoOf(join(FIXTURES, 'fixture.jpg'))).orientation).toBeUndefined();
  });

  test('an animated GIF counts its frames', async () => {
    const path = ffmpeg('anim.gif', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10:duration=0.5');
    const info = await infoOf(path);
    const frames = execFileSync(requireTool('ffprobe'), [
      ...['-v', 'error', '-count_frames', '-select_streams', 'v:0'],
      ...['-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', path],
    ]);
    expect(info.frames).toBe(Number(frames.toString().trim()));
  });
});
