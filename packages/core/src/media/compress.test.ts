import { describe, expect, test } from 'bun:test';
import sharp from 'sharp';
import { compressImage } from './compress.ts';
import { synthesize } from './synth/synthesize.ts';
import { validateFileIntegrity } from './validate/validate.ts';

async function photo(format: 'image/jpeg' | 'image/png', sizeBytes = 400_000): Promise<Uint8Array> {
  const { stream } = await synthesize({ mediaType: 'image', format, sizeBytes, seed: 'photo' });
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

describe('compressImage', () => {
  test('re-encodes a high-quality JPEG smaller, keeping format and dimensions, and reports sizes', async () => {
    const input = await photo('image/jpeg');
    const result = await compressImage(input, { quality: 75 });
    expect(result.compressed).toBe(true);
    expect(result.contentType).toBe('image/jpeg');
    expect(result.compressedSize).toBe(result.data.byteLength);
    expect(result.originalSize).toBe(input.byteLength);
    expect(result.compressedSize).toBeLessThan(input.byteLength);
    expect(result.savedRatio).toBeCloseTo(1 - result.compressedSize / input.byteLength, 6);
    const before = await sharp(input).metadata();
    expect([result.width, result.height]).toEqual([before.width as number, before.height as number]);
    await validateFileIntegrity(result.data, 'image/jpeg');
  });

  test('never returns a larger file: an already small image comes back unchanged', async () => {
    const tiny = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#336699' } })
      .jpeg({ quality: 20, mozjpeg: true })
      .toBuffer();
    const input = new Uint8Array(tiny);
    for (const quality of [60, 85, 100]) {
      const result = await compressImage(input, { quality });
      expect(result.compressedSize).toBeLessThanOrEqual(input.byteLength);
      if (!result.compressed) expect(result.data).toBe(input);
    }
    const high = await compressImage(input, { quality: 100 });
    expect(high.compressed).toBe(false);
    expect(high.savedRatio).toBe(0);
  });

  test('converts formats and bounds dimensions on request', async () => {
    const input = await photo('image/png');
    const webp = await compressImage(input, { format: 'webp', quality: 80, maxDimension: 200 });
    expect(webp.contentType).toBe('image/webp');
    expect(Math.max(webp.width, webp.height)).toBe(200);
    expect((await sharp(webp.data).metadata()).format).toBe('webp');
    const avif = await compressImage(input, { format: 'avif', quality: 50 });
    expect(avif.contentType).toBe('image/avif');
    await validateFileIntegrity(avif.data, 'image/avif');
  });

  test('applies EXIF orientation to the pixels and strips other metadata', async () => {
    const rotated = await sharp({ create: { width: 300, height: 100, channels: 3, background: '#aa3300' } })
      .jpeg({ quality: 100 })
      .withExif({ IFD0: { Copyright: 'secret-owner' } })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect((await sharp(rotated).metadata()).orientation).toBe(6);
    const result = await compressImage(new Uint8Array(rotated), { quality: 80 });
    const meta = await sharp(result.data).metadata();
    expect([meta.width, meta.height]).toEqual([100, 300]);
    expect(meta.orientation ?? 1).toBe(1);
    expect(meta.exif).toBeUndefined();
    expect(Buffer.from(result.data).includes('secret-owner')).toBe(false);
  });

  test('PNG recompression is lossless: the same pixels, still true colour, never larger', async () => {
    const input = await photo('image/png', 200_000);
    const result = await compressImage(input, { quality: 85 });
    expect(result.contentType).toBe('image/png');
    expect(result.compressedSize).toBeLessThanOrEqual(input.byteLength);
    const [before, after] = await Promise.all(
      [input, result.data].map((bytes) => sharp(bytes).raw().toBuffer({ resolveWithObject: true })),
    );
    expect(after?.info.channels).toBe(before?.info.channels);
    expect(Buffer.compare(after?.data as Buffer, before?.data as Buffer)).toBe(0);
    expect((await sharp(result.data).metadata()).isPalette ?? false).toBe(false);
  });

  test('quality outside 1-100 is refused', async () => {
    await expect(compressImage(new Uint8Array(10), { quality: 0 })).rejects.toThrow('quality');
  });
});
