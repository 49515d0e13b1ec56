/**
 * An animation of tiny frames: the decoder's cost per frame does not shrink with the frame, so each counts at least
 * MIN_FRAME_PIXELS against the pixel limit (an attacker's 23 MB GIF of a million 7 × 7 frames took 14 s to validate).
 */
import { expect, test } from 'bun:test';
import { FileProcessingError } from '../../errors.ts';
import { bytes, repeat, u16le } from '../bombs/bytes.ts';
import { loadSharp } from '../load-sharp.ts';
import { MIN_FRAME_PIXELS } from './gif-frames.ts';
import { DEFAULT_MAX_PIXELS, validateImage } from './image.ts';
import { validateFileIntegrity } from './validate.ts';

/** A valid looping GIF of `frames` 1 × 1 frames on a `side` × `side` screen, two colours. */
function tinyFrames(side: number, frames: number): Uint8Array {
  const header = bytes('GIF89a', u16le(side, side), [0x80, 0, 0], [0, 0, 0, 0xff, 0xff, 0xff]);
  const loop = bytes([0x21, 0xff, 0x0b], 'NETSCAPE2.0', [0x03, 0x01, 0, 0, 0]);
  const frame = bytes([0x21, 0xf9, 0x04, 0, 0, 0, 0, 0], [0x2c], u16le(0, 0, 1, 1), [0], [0x02, 0x02, 0x4c, 0x01, 0]);
  return bytes(header, loop, repeat(frame, frames), [0x3b]);
}

test('a GIF of more tiny frames than the pixel limit allows at MIN_FRAME_PIXELS each is refused before decoding', async () => {
  const frames = Math.floor(DEFAULT_MAX_PIXELS / MIN_FRAME_PIXELS) + 1;
  // 7 × 7 × frames is ~600,000 pixels: far under the limit counted by the screen alone.
  const error = await validateFileIntegrity(tinyFrames(7, frames), 'image/gif').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(FileProcessingError);
  expect((error as Error).message).toContain(`each frame counts at least ${MIN_FRAME_PIXELS}`);
});

test('an animated WebP of tiny frames counts each frame at MIN_FRAME_PIXELS too (from its metadata, before decoding)', async () => {
  // 300 frames of 8 × 8 against a limit of 1,000,000 pixels: 19,200 by their size, 1,228,800 at 4,096 a frame.
  const sharp = await loadSharp();
  const side = 8;
  const frames = 300;
  const raw = new Uint8Array(side * side * frames * 3).map((_, i) => (i * 7) & 0xff);
  const webp = await sharp(raw, { raw: { width: side, height: side * frames, channels: 3, pageHeight: side } as never })
    .webp({ lossless: true, effort: 0 })
    .toBuffer();
  const error = await validateImage(new Uint8Array(webp), 1_000_000).catch((e: unknown) => e);
  expect((error as Error).message).toContain(`the animation has ${frames} frames of 4096 pixels`);
  expect(await validateImage(new Uint8Array(webp), 2_000_000)).toMatchObject({ frames });
});

test('an animation of tiny frames under that count is still accepted, with its frames', async () => {
  const info = await validateImage(tinyFrames(7, 200), DEFAULT_MAX_PIXELS);
  expect(info).toMatchObject({ width: 7, height: 7, codec: 'gif', frames: 200 });
});
