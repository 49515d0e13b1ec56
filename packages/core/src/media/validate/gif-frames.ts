/**
 * GIF pixel budget from the block structure. libvips reads every frame before it can apply the pixel limit, so a GIF
 * of thousands of tiny frames on a huge screen costs seconds before being refused; counting frames here stops at the
 * first frame past the limit, at the cost of a few hops through the file.
 */
import { fail } from './problem.ts';
import { u16le } from './source.ts';

const colourTableBytes = (flags: number) => ((flags & 0x80) !== 0 ? 3 * 2 ** ((flags & 7) + 1) : 0);

/**
 * The least a frame of an animation counts against the pixel limit, however small its screen. The decoder's cost per
 * frame does not shrink with it: a 23 MB GIF of a million 7 × 7 frames (49 million pixels, under the 50 million cap)
 * took 14 s of CPU to validate, ~14 µs a frame, what decoding ~4,000 pixels of a large frame costs. Counted so, an
 * animation of tiny frames stops at ~12,000 frames; one of frames 64 × 64 or larger counts as before.
 */
export const MIN_FRAME_PIXELS = 4096;

/**
 * Refuses a GIF whose frames × screen size (each frame at least MIN_FRAME_PIXELS) exceed `maxPixels`, as sharp
 * counts an animation; ignores other bytes.
 */
export function checkGifPixels(bytes: Uint8Array, maxPixels: number): void {
  if (bytes.byteLength < 13 || bytes[0] !== 0x47 || bytes[1] !== 0x49 || bytes[2] !== 0x46) return;
  const screen = Math.max(u16le(bytes, 6) * u16le(bytes, 8), MIN_FRAME_PIXELS);
  let p = 13 + colourTableBytes(bytes[10] as number);
  let frames = 0;
  const skipSubBlocks = () => {
    while (p < bytes.byteLength) {
      const length = bytes[p] as number;
      p += 1 + length;
      if (length === 0) return;
    }
  };
  while (p < bytes.byteLength) {
    const block = bytes[p];
    if (block === 0x21) {
      p += 2;
      skipSubBlocks();
    } else if (block === 0x2c) {
      frames += 1;
      if (frames * screen > maxPixels) {
        fail(
          `GIF has more than ${frames - 1} frames of ${screen} pixels (each frame counts at least ${MIN_FRAME_PIXELS}): over the pixel limit of ${maxPixels}`,
        );
      }
      p += 10 + colourTableBytes((bytes[p + 9] as number) ?? 0) + 1;
      skipSubBlocks();
    } else {
      return; // the trailer, or damage that the decoder will name
    }
  }
}
