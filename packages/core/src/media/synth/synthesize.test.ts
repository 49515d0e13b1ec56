/** Synthesis checked by this project's validators AND by independent tools: ffprobe (ffmpeg) and file(1). */
import { describe, expect, test } from 'bun:test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileProcessingError } from '../../errors.ts';
import { ffprobe } from '../../testing/ffprobe.ts';
import { requireTool } from '../../testing/system-tools.ts';
import { detectFileType } from '../detect.ts';
import { validateFileIntegrity } from '../validate/validate.ts';
import { type SynthesizeOptions, synthesize } from './synthesize.ts';

const dir = mkdtempSync(join(tmpdir(), 'mediaforge-synth-'));
let counter = 0;

async function make(options: SynthesizeOptions) {
  const result = await synthesize(options);
  const bytes = new Uint8Array(await new Response(result.stream).arrayBuffer());
  const path = join(dir, `sample-${counter++}${result.extension}`);
  await Bun.write(path, bytes);
  return { ...result, bytes, path };
}

function fileMime(path: string): string {
  return execFileSync(requireTool('file'), ['-b', '--mime-type', path]).toString().trim();
}

/** ffprobe must decode every packet without a single error, and report streams and a duration. */
function decodedProbe(path: string) {
  execFileSync(requireTool('ffmpeg'), ['-v', 'error', '-xerror', '-i', path, '-f', 'null', '-'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return ffprobe(path);
}

const FILE_MIME: Record<string, string[]> = {
  'text/plain': ['text/plain'],
  'image/jpeg': ['image/jpeg'],
  'image/png': ['image/png'],
  'audio/mpeg': ['audio/mpeg'],
  'audio/wav': ['audio/x-wav', 'audio/wav'],
  'video/mp4': ['video/mp4'],
};

const CASES = [
  { mediaType: 'text', format: undefined },
  { mediaType: 'image', format: 'image/jpeg' },
  { mediaType: 'image', format: 'image/png' },
  { mediaType: 'audio', format: 'audio/mpeg' },
  { mediaType: 'audio', format: 'audio/wav' },
  { mediaType: 'video', format: 'video/mp4' },
] as const;

describe('synthesize', () => {
  for (const { mediaType, format } of CASES) {
    for (const sizeBytes of [1024, 1111, 15 * 1024, 300 * 1024, 2 * 1024 * 1024 + 2]) {
      test(`${format ?? mediaType} at ${sizeBytes} bytes passes our validators, file(1) and ffprobe`, async () => {
        const sample = await make({ mediaType, format, sizeBytes, seed: `case-${sizeBytes}` });
        const detection = await detectFileType(sample.bytes);
        expect(detection.contentType).toBe(sample.contentType);
        const info = await validateFileIntegrity(sample.bytes, sample.contentType);
        expect(FILE_MIME[sample.contentType]).toContain(fileMime(sample.path));
        const ratio = sample.bytes.byteLength / sizeBytes;
        if (mediaType === 'image') expect(Math.abs(ratio - 1)).toBeLessThanOrEqual(0.1);
        // RIFF chunks are word-aligned, so a WAV file is always an even number of bytes.
        else expect(sample.bytes.byteLength).toBe(format === 'audio/wav' ? sizeBytes & ~1 : sizeBytes);
        if (mediaType === 'audio' || mediaType === 'video') {
          const probe = decodedProbe(sample.path);
          expect(probe.streams[0]?.codec_type).toBe(mediaType);
          expect(Number(probe.format.duration)).toBeGreaterThan(0);
          expect(info.durationSeconds).toBeGreaterThan(0);
        }
        if (mediaType === 'image') expect(info.width).toBeGreaterThan(0);
      });
    }
  }

  test('the same seed gives the same bytes; another seed gives other bytes', async () => {
    for (const { mediaType, format } of CASES) {
      const a = await make({ mediaType, format, sizeBytes: 20_000, seed: 'same' });
      // Cross a second boundary: a container that stamps the wall clock (MP4 headers do) must not leak it.
      await Bun.sleep(1001);
      const b = await make({ mediaType, format, sizeBytes: 20_000, seed: 'same' });
      const c = await make({ mediaType, format, sizeBytes: 20_000, seed: 'other' });
      expect(Bun.hash(a.bytes)).toBe(Bun.hash(b.bytes));
      expect(Bun.hash(a.bytes)).not.toBe(Bun.hash(c.bytes));
    }
  });

  test('text is Telugu corpus lines with timestamps, never splitting a character at the exact size', async () => {
    for (const size of [1024, 1025, 1026, 4099, 65_537]) {
      const sample = await make({ mediaType: 'text', sizeBytes: size, seed: size });
      expect(sample.bytes.byteLength).toBe(size);
      const text = new TextDecoder('utf-8', { fatal: true }).decode(sample.bytes);
      expect(text).toMatch(/^2025-06-03T19:30:45\.000Z \[1\] /);
      expect(text).toMatch(/[\u0C00-\u0C7F]/);
      expect(text.endsWith('\n')).toBe(true);
    }
  });

  test('100 MB of every streamed kind arrives in bounded chunks, at the exact size, and validates', async () => {
    const size = 100 * 1024 * 1024;
    for (const [mediaType, format] of [
      ['text', 'text/plain'],
      ['audio', 'audio/wav'],
      ['audio', 'audio/mpeg'],
      ['video', 'video/mp4'],
    ] as const) {
      const { stream, extension, contentType } = await synthesize({ mediaType, format, sizeBytes: size, seed: 7 });
      const path = join(dir, `large-${counter++}${extension}`);
      const writer = Bun.file(path).writer();
      let total = 0;
      let largest = 0;
      for await (const chunk of stream) {
        total += chunk.byteLength;
        largest = Math.max(largest, chunk.byteLength);
        writer.write(chunk);
      }
      await writer.end();
      expect(total).toBe(size);
      // Video chunks are batches of whole frames; one IDR frame of the 640x480 clip can exceed 256 KiB alone.
      expect(largest).toBeLessThanOrEqual(mediaType === 'video' ? 1024 * 1024 : 256 * 1024);
      const info = await validateFileIntegrity(Bun.file(path), contentType);
      if (mediaType !== 'text') {
        expect(info.durationSeconds).toBeGreaterThan(10);
        const probe = ffprobe(path);
        expect(Number(probe.format.duration)).toBeCloseTo(info.durationSeconds as number, 0);
      }
    }
  });

  test('looped MP3 blocks and MP4 clips decode across every seam without an error', async () => {
    // 2 MB of MP3 repeats its 64-frame block about 55 times; 5 MB of MP4 loops its 20-frame clip several times.
    for (const [mediaType, format, sizeBytes] of [
      ['audio', 'audio/mpeg', 2_000_003],
      ['video', 'video/mp4', 5_000_001],
    ] as const) {
      const sample = await make({ mediaType, format, sizeBytes, seed: 'seams' });
      expect(sample.bytes.byteLength).toBe(sizeBytes);
      const probe = decodedProbe(sample.path);
      expect(Number(probe.format.duration)).toBeGreaterThan(mediaType === 'audio' ? 60 : 2);
    }
  });

  test('MP4 keyframes are listed: every loop of the clip starts at a sync sample ffprobe agrees on', async () => {
    const sample = await make({ mediaType: 'video', sizeBytes: 3_000_000, seed: 'keys' });
    const frames = JSON.parse(
      execFileSync(requireTool('ffprobe'), [
        '-v',
        'error',
        '-select_streams',
        'v',
        '-show_entries',
        'packet=flags',
        '-of',
        'json',
        sample.path,
      ]).toString(),
    ) as { packets: { flags: string }[] };
    const keys = frames.packets.flatMap((packet, i) => (packet.flags.startsWith('K') ? [i] : []));
    expect(keys.length).toBeGreaterThan(1);
    expect(keys[0]).toBe(0);
    expect(keys.length).toBeLessThan(frames.packets.length);
  });

  test('bad requests are typed errors', async () => {
    const tooSmall = await synthesize({ mediaType: 'audio', sizeBytes: 10 }).catch((e) => e);
    expect(tooSmall).toBeInstanceOf(FileProcessingError);
    expect(tooSmall.code).toBe('INVALID_SIZE');
    const tooBig = await synthesize({ mediaType: 'video', sizeBytes: 2 ** 32 }).catch((e) => e);
    expect(tooBig).toBeInstanceOf(FileProcessingError);
    expect(tooBig.code).toBe('INVALID_SIZE');
    const wrongFormat = await synthesize({ mediaType: 'audio', sizeBytes: 2048, format: 'image/png' }).catch((e) => e);
    expect(wrongFormat.code).toBe('UNSUPPORTED_SYNTHESIS_FORMAT');
    expect(wrongFormat.message).toContain('audio/mpeg, audio/wav');
  });
});
