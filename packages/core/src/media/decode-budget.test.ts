import { expect, test } from 'bun:test';
import sharp from 'sharp';
import { DecodeTimeoutError } from '../errors.ts';
import { solidWebp } from './bombs/index.ts';
import { compressImage } from './compress.ts';
import { compressSeconds, validateSeconds } from './decode-budget.ts';
import { isSharpTimeout } from './validate/image.ts';
import { validateFileIntegrity } from './validate/validate.ts';

const noise = (width: number, height: number) =>
  sharp({
    create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 50 } },
  });

test('budgets grow with pixels and stay bounded at the pixel cap', () => {
  expect([validateSeconds(1), validateSeconds(50_000_000)]).toEqual([3, 15]);
  expect([compressSeconds(1), compressSeconds(50_000_000)]).toEqual([2, 6]);
});

test('a decode past its time budget is refused with DECODE_TIMEOUT, not a 500 or a stored file', async () => {
  // Random pixels at quality 100, progressive, no chroma subsampling, just under the pixel cap: ~140 MB that take
  // seconds to decode (5000 × 5000 decoded within the 1 s minimum budget on a quiet machine).
  const pixels = new Uint8Array(7000 * 7000 * 3);
  for (let offset = 0; offset < pixels.length; offset += 65_536) {
    crypto.getRandomValues(pixels.subarray(offset, offset + 65_536));
  }
  const raw = { width: 7000, height: 7000, channels: 3 } as const;
  const slow = await sharp(pixels, { raw })
    .jpeg({ progressive: true, quality: 100, chromaSubsampling: '4:4:4' })
    .toBuffer();
  const error = await validateFileIntegrity(new Uint8Array(slow), 'image/jpeg', { maxDecodeSeconds: 1 }).catch(
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DecodeTimeoutError);
  expect(error).toMatchObject({ code: 'DECODE_TIMEOUT', details: { contentType: 'image/jpeg', budgetSeconds: 1 } });
});

test('a recompression past its time budget keeps the original and says so', async () => {
  const input = new Uint8Array(await noise(4000, 4000).png({ compressionLevel: 0 }).toBuffer());
  const result = await compressImage(input, { maxSeconds: 1 });
  expect(result).toMatchObject({ compressed: false, skipped: 'timeout', contentType: 'image/png', savedRatio: 0 });
  expect(result.data).toBe(input);
  expect([result.width, result.height]).toEqual([4000, 4000]);
});

test('re-encodes that cannot pay off are not tried: sub-0.1-bit-per-pixel images and AVIF', async () => {
  // 7000 × 7000 in a few dozen bytes: re-encoding it cost seconds (issue 18 F2) to save nothing.
  const flat = await solidWebp(7000, 7000);
  const started = performance.now();
  expect(await compressImage(flat)).toMatchObject({ compressed: false, skipped: 'compact', width: 7000 });
  expect(performance.now() - started).toBeLessThan(1000);
  const avif = new Uint8Array(await noise(256, 256).avif({ quality: 60 }).toBuffer());
  const kept = await compressImage(avif);
  expect(kept).toMatchObject({ compressed: false, skipped: 'avif', contentType: 'image/avif' });
  expect(kept.data).toBe(avif);
  // A requested conversion still runs: the caller asked for that format.
  expect((await compressImage(avif, { format: 'webp' })).contentType).toBe('image/webp');
  // An ordinary photo is still recompressed.
  const photo = new Uint8Array(await noise(640, 480).jpeg({ quality: 100 }).toBuffer());
  expect(await compressImage(photo, { quality: 75 })).toMatchObject({ compressed: true });
});

test("a pipeline killed while writing reports only the failed write: at or past its budget, that is the budget's", () => {
  // What a PNG re-encode killed by its budget on a loaded server said (an attacker's 500s before this).
  const killed = new Error('vips2png: unable to write to target target');
  const seconds = 2;
  expect(isSharpTimeout(killed, { startedAt: performance.now() - 2100, seconds })).toBe(true);
  expect(isSharpTimeout(killed, { startedAt: performance.now() - 100, seconds })).toBe(false);
  expect(isSharpTimeout(killed)).toBe(false);
  expect(isSharpTimeout(new Error('timeout: 42% complete\nVipsImage: killed'))).toBe(true);
});
