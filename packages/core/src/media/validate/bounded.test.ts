/** Issue 18 regressions: the reported MP4 and WebP, and the request thread kept responsive while hostile files are checked. */
import { describe, expect, test } from 'bun:test';
import sharp from 'sharp';
import { IntegrityError } from '../../errors.ts';
import { flacOfSyncBytes, issue18Mp4, solidWebp } from '../bombs/index.ts';
import { compressImage } from '../compress.ts';
import { MAX_IMAGE_PIXELS } from '../decode-budget.ts';
import { validateFileIntegrity } from './validate.ts';

/** Runs `work` while a 5 ms timer measures how late it fires: the worst event-loop lag seen. */
async function worstLagDuring(work: () => Promise<unknown>): Promise<number> {
  let worst = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 5);
    last = now;
  }, 5);
  try {
    await work().catch(() => {});
    await Bun.sleep(20); // let a timer that was held back fire and be counted
  } finally {
    clearInterval(timer);
  }
  return worst;
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; outcome: T | unknown }> {
  const started = performance.now();
  const outcome = await work().catch((error: unknown) => error);
  return { ms: performance.now() - started, outcome };
}

describe('the MP4 of issue 18', () => {
  test.each([
    ['one track (stsz 2^32−1 × 1 byte, stsc 700,000 per chunk, 6,136 stco entries)', 1],
    ['ten such tracks, 947 KB (once 125 s, then stored as valid)', 10],
  ])('%s is refused as corrupted within a second', async (_, tracks) => {
    const file = issue18Mp4(tracks);
    const { ms, outcome } = await timed(() => validateFileIntegrity(file, 'video/mp4'));
    expect(outcome).toBeInstanceOf(IntegrityError);
    expect((outcome as IntegrityError).code).toBe('INTEGRITY_ERROR');
    expect((outcome as Error).message).toContain('declares 4294967295 samples of 1 bytes');
    expect(ms).toBeLessThan(1000);
  });
});

test('the event loop keeps turning while a 32 MB hostile FLAC is walked', async () => {
  const file = flacOfSyncBytes(32 * 1024 * 1024);
  await validateFileIntegrity(new TextEncoder().encode('warm'), 'text/plain');
  const lag = await worstLagDuring(() => validateFileIntegrity(file, 'audio/flac'));
  console.log(`worst event-loop lag while validating ${file.byteLength} bytes of FLAC bomb: ${lag.toFixed(1)} ms`);
  expect(lag).toBeLessThan(250);
}, 30_000);

describe('the solid-colour 10000 × 9999 WebP of issue 18', () => {
  test('it is what the report describes: a tiny file of 10000 × 9999 pixels, over the 50 MP limit', async () => {
    const webp = await solidWebp(10_000, 9_999);
    const meta = await sharp(webp, { limitInputPixels: false }).metadata();
    expect([meta.width, meta.height]).toEqual([10_000, 9_999]);
    expect(10_000 * 9_999).toBeGreaterThan(MAX_IMAGE_PIXELS);
  });

  test('validation refuses it from the header: fast, and without allocating its pixels', async () => {
    const webp = await solidWebp(10_000, 9_999);
    const rssBefore = process.memoryUsage().rss;
    const { ms, outcome } = await timed(() => validateFileIntegrity(webp, 'image/webp'));
    expect(outcome).toBeInstanceOf(IntegrityError);
    expect((outcome as Error).message).toContain('pixel limit');
    expect(ms).toBeLessThan(1000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(100 * 1024 * 1024);
  });

  test('compression refuses it the same way', async () => {
    const { ms, outcome } = await timed(async () => compressImage(await solidWebp(10_000, 9_999)));
    expect(outcome).toBeInstanceOf(IntegrityError);
    expect(ms).toBeLessThan(1000);
  });
});
