/** compressImage: re-encode an image smaller without visible loss, and never return a larger file. */

import type { Metadata } from 'sharp';
import { FileTypeNotSupportedError, IntegrityError } from '../errors.ts';
import { compressSeconds, imageDecodes, MIN_BITS_PER_PIXEL_TO_COMPRESS, tightened } from './decode-budget.ts';
import { loadSharp } from './load-sharp.ts';
import { checkImageStructure, DEFAULT_MAX_PIXELS, isSharpTimeout } from './validate/image.ts';
import { FormatProblem } from './validate/problem.ts';

export type CompressFormat = 'jpeg' | 'png' | 'webp' | 'avif' | 'gif';

const MIME: Record<CompressFormat, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  gif: 'image/gif',
};

export interface CompressOptions {
  /** 1–100, default 85 (the seed's recommended 75–85 range). */
  quality?: number;
  /** Convert to this format; by default the input's format is kept. */
  format?: CompressFormat;
  /** Shrink so neither side exceeds this many pixels (never enlarges). */
  maxDimension?: number;
  /** Pixel cap of the input (decompression-bomb guard); MAX_IMAGE_PIXELS by default. */
  maxPixels?: number;
  /** Tightens the re-encode's time budget (compressSeconds of its pixels); it is never raised. */
  maxSeconds?: number;
  /** Whose decode this is (user id or key): waiting image decodes are served round-robin by owner. */
  owner?: string;
}

/**
 * Why the original was kept without trying, or without finishing, a re-encode: `timeout` (over compressSeconds),
 * `compact` (under MIN_BITS_PER_PIXEL_TO_COMPRESS: no re-encode can pay off), `avif` (an AVIF re-encode is lossy
 * again, rarely smaller, and its encoder does not stop at sharp's timeout).
 */
export type CompressSkip = 'timeout' | 'compact' | 'avif';

export interface CompressResult {
  data: Uint8Array;
  contentType: string;
  format: CompressFormat;
  originalSize: number;
  compressedSize: number;
  /** False when re-encoding would not have made the file smaller: `data` is then the original bytes. */
  compressed: boolean;
  /** Fraction of bytes saved, 0–1. */
  savedRatio: number;
  width: number;
  height: number;
  /** Set when the original was kept without a finished re-encode; see CompressSkip. */
  skipped?: CompressSkip;
}

/**
 * Re-encodes with sharp (mozjpeg for JPEG), applying EXIF orientation to the pixels and keeping the ICC profile;
 * all other metadata (EXIF, GPS, XMP) is dropped. Runs in one of the process's image-decode slots, within a time
 * budget proportional to pixels; without a conversion, a re-encode that cannot pay off or runs out of time keeps the
 * original (`skipped` says why).
 * @throws IntegrityError for an unreadable image; OverloadedError (code OVERLOADED) when decoding is at capacity.
 * @example const { data, savedRatio } = await compressImage(bytes, { quality: 80 });
 */
export async function compressImage(input: Uint8Array, options: CompressOptions = {}): Promise<CompressResult> {
  const quality = Math.round(options.quality ?? 85);
  if (!(quality >= 1 && quality <= 100))
    throw new RangeError(`quality must be between 1 and 100 (got ${options.quality})`);
  return imageDecodes.run(() => compress(input, quality, options), options.owner);
}

async function compress(input: Uint8Array, quality: number, options: CompressOptions): Promise<CompressResult> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  try {
    checkImageStructure(input, maxPixels);
  } catch (error) {
    if (error instanceof FormatProblem) throw new IntegrityError('image', error.message, { cause: error });
    throw error;
  }
  const sharp = await loadSharp();
  const source = sharp(input, {
    failOn: 'error',
    limitInputPixels: maxPixels,
    animated: true,
  });
  let meta: Metadata;
  try {
    meta = await source.metadata();
  } catch (error) {
    throw new IntegrityError('image', `cannot read the image: ${(error as Error).message.split('\n')[0]}`, {
      cause: error,
    });
  }
  const inputFormat = (meta.format === 'heif' ? 'avif' : meta.format) as CompressFormat;
  if (!(inputFormat in MIME)) throw new FileTypeNotSupportedError(`image/${meta.format}`);
  const format = options.format ?? inputFormat;
  const converting = format !== inputFormat || options.maxDimension !== undefined;
  const pixels = (meta.width ?? 0) * (meta.height ?? 0);
  const kept = (skipped: CompressSkip) => original(input, format, meta, skipped);
  if (!converting && inputFormat === 'avif') return kept('avif');
  if (!converting && input.byteLength * 8 < pixels * MIN_BITS_PER_PIXEL_TO_COMPRESS) return kept('compact');

  const seconds = tightened(compressSeconds(pixels), options.maxSeconds);
  let pipeline = source.clone().timeout({ seconds }).rotate().keepIccProfile();
  if (options.maxDimension) {
    pipeline = pipeline.resize({
      width: options.maxDimension,
      height: options.maxDimension,
      fit: 'inside',
      withoutEnlargement: true,
    });
  }
  pipeline =
    format === 'jpeg'
      ? pipeline.jpeg({ quality, mozjpeg: true })
      : format === 'png'
        ? // Lossless: sharp's PNG \`effort\` or \`quality\` would switch on palette quantisation (lossy, and ~20× slower).
          pipeline.png({ compressionLevel: 9, adaptiveFiltering: true, palette: false })
        : format === 'webp'
          ? pipeline.webp({ quality, effort: 5 })
          : format === 'avif'
            ? pipeline.avif({ quality, effort: 4 })
            : pipeline.gif({ effort: 10 });
  let encoded: { data: Buffer; info: { width: number; height: number } };
  const startedAt = performance.now();
  try {
    encoded = await pipeline.toBuffer({ resolveWithObject: true });
  } catch (error) {
    // Compression is optional: out of time, the original is kept (a requested conversion cannot be, so it fails).
    if (isSharpTimeout(error, { startedAt, seconds }) && !converting) return kept('timeout');
    throw error;
  }
  const { data, info } = encoded;
  const keepOriginal = !converting && data.byteLength >= input.byteLength;
  const out = keepOriginal ? input : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return {
    data: out,
    contentType: MIME[format],
    format,
    originalSize: input.byteLength,
    compressedSize: out.byteLength,
    compressed: !keepOriginal,
    savedRatio: Math.max(0, 1 - out.byteLength / input.byteLength),
    width: keepOriginal ? (meta.width ?? info.width) : info.width,
    height: keepOriginal ? (meta.pageHeight ?? meta.height ?? info.height) : info.height,
  };
}

function original(input: Uint8Array, format: CompressFormat, meta: Metadata, skipped: CompressSkip): CompressResult {
  return {
    data: input,
    contentType: MIME[format],
    format,
    originalSize: input.byteLength,
    compressedSize: input.byteLength,
    compressed: false,
    savedRatio: 0,
    width: meta.width ?? 0,
    height: meta.pageHeight ?? meta.height ?? 0,
    skipped,
  };
}
