/**
 * What one process spends on decoding images (issue 18). A 205 KB solid-colour WebP of 10000 × 9999 took 6.5 s and
 * 865 MB to decode, twelve at once 68 s each and 1.8 GB: cost follows pixels, not bytes, so pixels are capped per
 * image, time per decode and encode, and decodes per process, shared round-robin between owners.
 */
import { availableParallelism } from 'node:os';
import { createSlots } from './slots.ts';

/**
 * Largest image decoded or re-encoded: 50 megapixels. A 48 MP phone photo (8064 × 6048) and an 8K frame fit; a
 * decode then needs at most ~200 MB of RGBA. Larger headers are refused before decoding (callers may pass `maxPixels`).
 */
export const MAX_IMAGE_PIXELS = 50_000_000;

/** libvips threads per image: parallelism comes from decoding several images, each on one thread. */
export const SHARP_THREADS_PER_IMAGE = 1;

/** Images decoded at once, one per core (at most 4): worst case ~4 × 200 MB of pixels. */
export const IMAGE_DECODE_SLOTS = Math.max(1, Math.min(4, availableParallelism()));

/** Decodes that may wait for a slot; past it, OverloadedError (code OVERLOADED, retry after 5 s). */
export const IMAGE_DECODE_QUEUE = 32;

/** Decodes one owner may have waiting: one owner alone cannot fill the queue and get everyone else refused. */
export const IMAGE_DECODE_QUEUE_PER_OWNER = IMAGE_DECODE_QUEUE / 4;

/** Every sharp decode or encode in the process runs in one of these slots, waiting ones served round-robin by owner. */
export const imageDecodes = createSlots({
  name: 'Image decoding',
  limit: IMAGE_DECODE_SLOTS,
  queue: IMAGE_DECODE_QUEUE,
  queuePerOwner: IMAGE_DECODE_QUEUE_PER_OWNER,
  retryAfterSeconds: 5,
});

/**
 * Seconds a validating decode may take: 2 s plus 1 s per 4 MP (14 s at 50 MP). A 48 MP noisy JPEG decoded in 1.4 s
 * and a 49 MP WebP in 1.7 s at load 28 on 2 cores, so honest images have ~10× headroom. sharp counts whole seconds.
 */
export function validateSeconds(pixels: number): number {
  return 2 + Math.ceil(pixels / 4_000_000);
}

/**
 * Seconds a recompression may take: 1 s plus 1 s per 10 MP (6 s at 50 MP). Compression is optional, so past it the
 * original is kept; a tighter budget than validation's because the fallback costs the user nothing.
 */
export function compressSeconds(pixels: number): number {
  return 1 + Math.ceil(pixels / 10_000_000);
}

/** A budget tightened by a caller's `tighter` seconds, never raised; whole seconds, at least 1 (sharp's 0 means none). */
export function tightened(seconds: number, tighter = Number.POSITIVE_INFINITY): number {
  return Math.max(1, Math.floor(Math.min(tighter, seconds)));
}

/**
 * Bits per pixel under which recompression is not tried: the file is already packed tighter than any re-encode at
 * quality 85 can reach (a 466-byte 4096 × 4096 AVIF re-encoded in 16.6 s to 922 bytes; an 88 KB 7000 × 7000 WebP is
 * 0.014 bits per pixel). Photos are 1–4 bits per pixel; flat graphics 0.1 and up.
 */
export const MIN_BITS_PER_PIXEL_TO_COMPRESS = 0.1;
