/** Sample images: a seeded gradient with noise, encoded as JPEG or PNG and resized until the file lands near the target size. */

import { loadSharp } from '../load-sharp.ts';
import { prng } from './prng.ts';

export type SynthImageFormat = 'jpeg' | 'png';

/**
 * Largest image synthesized: 24 megapixels (a full-frame camera's photo), half the validator's cap. Without it a
 * request for a 40 MB JPEG grew past the 50 MP cap over its resizing tries, spent ~19 s and ~400 MB, and was then
 * refused by validation, every time.
 */
export const MAX_SYNTH_IMAGE_PIXELS = 24_000_000;

/** Bytes per pixel of the noisiest-compressing seed, measured (JPEG 0.50–0.76, PNG 2.69–2.96), rounded down. */
const MIN_BYTES_PER_PIXEL: Record<SynthImageFormat, number> = { jpeg: 0.45, png: 2.5 };

/** The largest file `synthesizeImage` can reach for every seed within MAX_SYNTH_IMAGE_PIXELS. */
export function maxSynthImageBytes(format: SynthImageFormat): number {
  return Math.floor(MAX_SYNTH_IMAGE_PIXELS * MIN_BYTES_PER_PIXEL[format]);
}

/** Rows computed between two yields to the event loop: ~30 ms of work, so other requests keep being served. */
const ROWS_PER_TURN = 256;

async function pixels(width: number, height: number, seed: number): Promise<Buffer> {
  const random = prng(seed);
  const [r0, g0, b0] = [random() * 255, random() * 255, random() * 255];
  const noise = 40 + random() * 60;
  const out = Buffer.allocUnsafe(width * height * 3);
  let i = 0;
  for (let y = 0; y < height; y++) {
    if (y > 0 && y % ROWS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
    for (let x = 0; x < width; x++) {
      const n = (random() - 0.5) * noise;
      out[i++] = (r0 + (x / width) * 120 + n) & 255;
      out[i++] = (g0 + (y / height) * 120 + n) & 255;
      out[i++] = (b0 + ((x + y) / (width + height)) * 120 + n) & 255;
    }
  }
  return out;
}

async function encode(width: number, height: number, seed: number, format: SynthImageFormat): Promise<Buffer> {
  const sharp = await loadSharp();
  const image = sharp(await pixels(width, height, seed), { raw: { width, height, channels: 3 } });
  return format === 'png' ? image.png({ compressionLevel: 6 }).toBuffer() : image.jpeg({ quality: 90 }).toBuffer();
}

/**
 * Encodes, measures, and rescales the pixel count by the size error until within 10% (at most 6 tries), never past
 * MAX_SYNTH_IMAGE_PIXELS (callers refuse sizes over `maxSynthImageBytes` first).
 */
export async function synthesizeImage(sizeBytes: number, seed: number, format: SynthImageFormat): Promise<Uint8Array> {
  const bytesPerPixel = format === 'png' ? 2.2 : 0.9;
  let area = Math.min(MAX_SYNTH_IMAGE_PIXELS, Math.max(64, sizeBytes / bytesPerPixel));
  let best: Buffer | undefined;
  for (let attempt = 0; attempt < 6; attempt++) {
    const width = Math.max(8, Math.round(Math.sqrt(area * (4 / 3))));
    const height = Math.max(8, Math.round(width * 0.75));
    const bytes = await encode(width, height, seed, format);
    if (!best || Math.abs(bytes.byteLength - sizeBytes) < Math.abs(best.byteLength - sizeBytes)) best = bytes;
    const error = bytes.byteLength / sizeBytes;
    if (Math.abs(error - 1) <= 0.05) break;
    // Headers are a fixed cost; only the pixel data scales with area.
    const overhead = format === 'png' ? 100 : 620;
    area = Math.min(
      MAX_SYNTH_IMAGE_PIXELS,
      area * Math.max(0.05, (sizeBytes - overhead) / Math.max(1, bytes.byteLength - overhead)),
    );
  }
  return best as Buffer;
}
