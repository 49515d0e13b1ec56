/**
 * Synthesized images stay inside what validation accepts (an attacker's 40 MB JPEG request grew past the 50 MP cap,
 * spent ~19 s and ~400 MB, and was refused by validation every time), and their encoding shares the image slots.
 */
import { afterEach, expect, test } from 'bun:test';
import sharp from 'sharp';
import { FileProcessingError } from '../../errors.ts';
import { IMAGE_DECODE_SLOTS, imageDecodes } from '../decode-budget.ts';
import { validateFileIntegrity } from '../validate/validate.ts';
import { MAX_SYNTH_IMAGE_PIXELS, maxSynthImageBytes } from './image.ts';
import { synthesize } from './synthesize.ts';

const releases: (() => void)[] = [];

/** Holds every image slot until `releaseSlots()`. */
function holdAllSlots(): void {
  for (let i = 0; i < IMAGE_DECODE_SLOTS; i++) {
    void imageDecodes.run(() => new Promise<void>((resolve) => releases.push(resolve)), 'someone-else');
  }
  expect(imageDecodes.active).toBe(IMAGE_DECODE_SLOTS);
}

function releaseSlots(): void {
  for (const release of releases.splice(0)) release();
}

afterEach(releaseSlots);

test('a size past what 24 megapixels hold is refused at once, before any pixel or slot', async () => {
  holdAllSlots();
  for (const format of ['image/jpeg', 'image/png'] as const) {
    const largest = maxSynthImageBytes(format === 'image/png' ? 'png' : 'jpeg');
    // With every slot held, a request that waited for one would never settle here.
    const refused = await synthesize({ mediaType: 'image', format, sizeBytes: largest + 1 }).catch((e) => e);
    expect(refused).toBeInstanceOf(FileProcessingError);
    expect(refused).toMatchObject({ code: 'INVALID_SIZE', details: { maxSizeBytes: largest, format } });
    expect(refused.message).toContain('megapixels');
  }
  expect(imageDecodes.waiting).toBe(0);
  // 40 MB, the attacker's size, is past the JPEG limit.
  expect(maxSynthImageBytes('jpeg')).toBeLessThan(40 * 1024 * 1024);
});

test('image synthesis waits for an image slot, served by owner', async () => {
  holdAllSlots();
  let done = false;
  const made = synthesize({ mediaType: 'image', sizeBytes: 4096, seed: 1, owner: 'alice' }).then((result) => {
    done = true;
    return result;
  });
  await Bun.sleep(50);
  expect(done).toBe(false);
  expect(imageDecodes.waiting).toBe(1);
  releaseSlots();
  const { stream } = await made;
  expect((await new Response(stream).arrayBuffer()).byteLength).toBeGreaterThan(0);
});

test('the largest JPEG stays under the synthesis cap, lands within 10% and passes validation', async () => {
  const sizeBytes = maxSynthImageBytes('jpeg');
  // Seed 5 compressed best of twelve measured (0.50 bytes a pixel): it needs the most pixels for a size.
  const { stream } = await synthesize({ mediaType: 'image', sizeBytes, seed: 5 });
  const bytes = Buffer.from(await new Response(stream).arrayBuffer());
  const { width = 0, height = 0 } = await sharp(bytes).metadata();
  expect(width * height).toBeLessThanOrEqual(MAX_SYNTH_IMAGE_PIXELS * 1.001);
  expect(Math.abs(bytes.byteLength / sizeBytes - 1)).toBeLessThanOrEqual(0.1);
  expect(await validateFileIntegrity(bytes, 'image/jpeg')).toMatchObject({ width, height });
}, 120_000);
