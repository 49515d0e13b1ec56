/** Images: a complete decode with sharp, strict about damage and guarded against decompression bombs. */

import type { Metadata } from 'sharp';
import { MAX_IMAGE_PIXELS } from '../decode-budget.ts';
import { loadSharp } from '../load-sharp.ts';
import { checkGifPixels } from './gif-frames.ts';
import type { FormatInfo } from './media-info.ts';
import { fail } from './problem.ts';

/** Default pixel cap (MAX_IMAGE_PIXELS, 50 megapixels); larger headers are refused before decoding. */
export const DEFAULT_MAX_PIXELS = MAX_IMAGE_PIXELS;

export async function validateImage(bytes: Uint8Array, maxPixels = DEFAULT_MAX_PIXELS): Promise<FormatInfo> {
  checkGifPixels(bytes, maxPixels);
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
  try {
    // stats() pulls every pixel through the decoder in tiles, so damage anywhere is found without a full-size buffer.
    await image.stats();
  } catch (error) {
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

/** libvips reports a trail of low-level lines; keep the informative ones, short. */
function decoderMessage(error: unknown): string {
  const lines = String((error as Error).message ?? error)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('source: bad seek'));
  return lines.join('; ').slice(0, 300) || 'unknown decoder error';
}
