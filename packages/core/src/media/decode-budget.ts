/**
 * What one process spends on decoding images (issue 18). A 205 KB solid-colour WebP of 10000 × 9999 took 6.5 s and
 * 865 MB to decode, twelve at once 68 s each and 1.8 GB: cost follows pixels, not bytes, so pixels are capped per
 * image and decodes per process.
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

/** Every sharp decode or encode in the process runs in one of these slots. */
export const imageDecodes = createSlots({
  name: 'Image decoding',
  limit: IMAGE_DECODE_SLOTS,
  queue: IMAGE_DECODE_QUEUE,
  retryAfterSeconds: 5,
});
