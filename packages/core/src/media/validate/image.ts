/** Images: a complete decode with sharp, strict about damage and guarded against decompression bombs. */

import type { Metadata } from 'sharp';
import { DecodeTimeoutError } from '../../errors.ts';
import { MAX_IMAGE_PIXELS, tightened, validateSeconds } from '../decode-budget.ts';
import { loadSharp } from '../load-sharp.ts';
import { checkGifPixels, MIN_FRAME_PIXELS } from './gif-frames.ts';
import { checkJpegScans } from './jpeg-scans.ts';
import type { FormatInfo } from './media-info.ts';
import { fail } from './problem.ts';

/** Default pixel cap (MAX_IMAGE_PIXELS, 50 megapixels); larger headers are refused before decoding. */
export const DEFAULT_MAX_PIXELS = MAX_IMAGE_PIXELS;

/** Structural budgets checked from the bytes alone, before sharp sees them: GIF frames × screen, JPEG scans. */
export function checkImageStructure(bytes: Uint8Array, maxPixels: number): void {
  checkGifPixels(bytes, maxPixels);
  checkJpegScans(bytes);
}

export async function validateImage(
  bytes: Uint8Array,
  maxPixels = DEFAULT_MAX_PIXELS,
  maxSeconds?: number,
): Promise<FormatInfo> {
  checkImageStructure(bytes, maxPixels);
  const sharp = await loadSharp();
  const image = sharp(bytes, { failOn: 'error', limitInputPixels: maxPixels, animated: true });
  let meta: Metadata;
  try {
    meta = await image.metadata();
  } catch (error) {
    // limitInputPixels refuses decompression bombs here, from the header alone.
    fail(`cannot read the image header: ${decoderMessage(error)} (images are limited to ${maxPixels} pixels)`);
  }
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  checkDecodedBytes(meta, maxPixels);
  checkFrames(meta, maxPixels);
  const seconds = tightened(validateSeconds((meta.width ?? 0) * (meta.height ?? 0)), maxSeconds);
  try {
    // Every pixel goes through the decoder, so damage anywhere is found. A pipeline (not stats(), which ignores
    // sharp's timeout) writing one 8-bit band: at most one byte per pixel held, and the budget is enforced.
    await image.timeout({ seconds }).extractChannel(0).raw({ depth: 'uchar' }).toBuffer();
  } catch (error) {
    if (isSharpTimeout(error)) throw new DecodeTimeoutError(`image/${meta.format}`, seconds, { cause: error });
    fail(`decoding failed: ${decoderMessage(error)}`);
  }
  return {
    width,
    height,
    codec: meta.format,
    ...(meta.orientation ? { orientation: meta.orientation } : {}),
    ...(meta.pages && meta.pages > 1 ? { frames: meta.pages } : {}),
  };
}

/**
 * Any animation (an animated WebP as much as a GIF, whose structure was checked already): each frame counts at least
 * MIN_FRAME_PIXELS against the pixel limit, since the decoder's cost per frame does not shrink with the frame.
 */
function checkFrames(meta: Metadata, maxPixels: number): void {
  const frames = meta.pages ?? 1;
  const perFrame = Math.max((meta.width ?? 0) * (meta.pageHeight ?? meta.height ?? 0), MIN_FRAME_PIXELS);
  if (frames > 1 && frames * perFrame > maxPixels) {
    fail(
      `the animation has ${frames} frames of ${perFrame} pixels (each frame counts at least ${MIN_FRAME_PIXELS}): over the pixel limit of ${maxPixels}`,
    );
  }
}

/** Bytes one sample takes in each libvips band format sharp reports as `depth`. */
const SAMPLE_BYTES: Record<string, number> = { uchar: 1, char: 1, ushort: 2, short: 2, uint: 4, int: 4, float: 4 };

/**
 * The decoder holds the image at its own depth, so a 16-bit RGBA PNG under the pixel cap still costs 8 bytes a pixel
 * (a 381 KB all-zero 7000 × 7000 one took 165 MB to validate). The pixel cap's budget is 4 bytes a pixel (8-bit
 * RGBA); anything needing more, from the header's bands and depth, is refused before the decode.
 */
function checkDecodedBytes(meta: Metadata, maxPixels: number): void {
  const pixels = (meta.width ?? 0) * (meta.height ?? 0);
  const decoded = pixels * (meta.channels ?? 4) * (SAMPLE_BYTES[meta.depth ?? 'uchar'] ?? 8);
  if (decoded > maxPixels * 4) {
    fail(
      `the image decodes to ${Math.ceil(decoded / 1024 / 1024)} MiB (${meta.channels} bands of ${meta.depth}), over the ${Math.floor((maxPixels * 4) / 1024 / 1024)} MiB a decode may take (${maxPixels} pixels at 8-bit RGBA)`,
    );
  }
}

/**
 * sharp's `.timeout()` fails the pipeline with libvips' "timeout: N% complete"; with `budget` (when the pipeline was
 * started, and its seconds), any failure at or past the budget counts too. Callers that cannot tell a wait in
 * sharp's queue from work (a failed decode after a long wait must not pass for a timeout) leave `budget` out.
 */
export function isSharpTimeout(error: unknown, budget?: { startedAt: number; seconds: number }): boolean {
  if (/(^|\n)timeout: \d+% complete/.test(String((error as Error)?.message ?? ''))) return true;
  // A pipeline killed while writing its output can report only the failed write ("vips2png: unable to write to
  // target"); sharp never kills one before its budget, so any failure at or past the budget is the budget's.
  return budget !== undefined && performance.now() - budget.startedAt >= budget.seconds * 1000;
}

/** libvips reports a trail of low-level lines; keep the informative ones, short. */
function decoderMessage(error: unknown): string {
  const lines = String((error as Error).message ?? error)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('source: bad seek'));
  return lines.join('; ').slice(0, 300) || 'unknown decoder error';
}
