/** Synthesis checked by this project's validators AND by independent tools: ffprobe (ffmpeg) and file(1). */
import { describe, expect, test } from 'bun:test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileProcessingError } from '../../errors.ts';
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
  return execFileSync('file', ['-b', '--mime-type', path]).toString().trim();
}

/** ffprobe must decode every packet without a single error, and report streams and a duration. */
function ffprobe(path: string): { streams: { codec_type: string }[]; format: { duration: string } } {
  execFileSync('ffmpeg', ['-v', 'error', '-xerror', '-i', path, '-f', 'null', '-'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(
    execFileSync('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', path]).toString(),
  );
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
    for (const sizeBytes of [1024, 15 * 1024, 300 * 1024, 2 * 1024 * 1024]) {
      test(`${format ?? mediaType} at ${sizeBytes} bytes passes our validators, file(1) and ffprobe`, async () => {
        const sample = await make({ mediaType, format, sizeBytes, seed: `case-${sizeBytes}` });
        const detection = await detectFileType(sample.bytes);
        expect(detection.contentType).toBe(sample.contentType);
        const info = await validateFileIntegrity(sample.bytes, sample.contentType);
        expect(FILE_MIME[sample.contentType]).toContain(fileMime(sample.path));
        const ratio = sample.bytes.byteLength / sizeBytes;
        if (mediaType === 'text' || format === 'audio/wav') expect(sample.bytes.byteLength).toBe(sizeBytes);
        if (mediaType === 'image') expect(Math.abs(ratio - 1)).toBeLessThanOrEqual(0.1);
        if (format === 'audio/mpeg') expect(Math.abs(ratio - 1)).toBeLessThanOrEqual(sizeBytes < 4096 ? 0.2 : 0.05);
        if (mediaType === 'video') expect(ratio).toBeLessThan(sizeBytes < 4096 ? 2 : 1.25);
        if (mediaType === 'video') expect(ratio).toBeGreaterThan(sizeBytes < 4096 ? 0.5 : 0.75);
        if (mediaType === 'audio' || mediaType === 'video') {
          const probe = ffprobe(sample.path);
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

  test('100 MB of text and WAV stream in chunks, never as one buffer', async () => {
    for (const format of ['text/plain', 'audio/wav']) {
      const { stream } = await synthesize({
        mediaType: format === 'text/plain' ? 'text' : 'audio',
        format,
        sizeBytes: 100 * 1024 * 1024,
      });
      let total = 0;
      let largest = 0;
      for await (const chunk of stream) {
        total += chunk.byteLength;
        largest = Math.max(largest, chunk.byteLength);
      }
      expect(total).toBe(100 * 1024 * 1024);
      expect(largest).toBeLessThanOrEqual(256 * 1024);
    }
  });

  test('bad requests are typed errors', async () => {
    const tooSmall = await synthesize({ mediaType: 'audio', sizeBytes: 10 }).catch((e) => e);
    expect(tooSmall).toBeInstanceOf(FileProcessingError);
    expect(tooSmall.code).toBe('INVALID_SIZE');
    const wrongFormat = await synthesize({ mediaType: 'audio', sizeBytes: 2048, format: 'image/png' }).catch((e) => e);
    expect(wrongFormat.code).toBe('UNSUPPORTED_SYNTHESIS_FORMAT');
    expect(wrongFormat.message).toContain('audio/mpeg, audio/wav');
  });
});
