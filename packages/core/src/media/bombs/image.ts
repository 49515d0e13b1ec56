/**
 * Image header bombs: a few hundred bytes that declare billions of pixels (PNG, JPEG, WebP canvas) or a GIF whose
 * thousands of frames each cover a huge screen; and a progressive JPEG of thousands of scans. The pixel limit must refuse them from the header, before decoding.
 */
import { deflateSync } from 'node:zlib';
import { MAX_JPEG_SCANS } from '../validate/jpeg-scans.ts';
import { bytes, type Part, repeat, u16be, u16le, u32be, u32le } from './bytes.ts';
import { progressiveJpeg } from './progressive-jpeg.ts';

function pngChunk(type: string, body: Part): Uint8Array {
  const data = bytes(type, body);
  return bytes(u32be(data.byteLength - 4), data, u32be(Bun.hash.crc32(data)));
}

export function png(width: number, height: number, rows: Uint8Array): Uint8Array {
  return bytes(
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    pngChunk('IHDR', bytes(u32be(width, height), [8, 0, 0, 0, 0])),
    pngChunk('IDAT', deflateSync(rows)),
    pngChunk('IEND', []),
  );
}

function jpegHeader(width: number, height: number): Uint8Array {
  const sof = bytes([0xff, 0xc0], u16be(11), [8], u16be(height, width), [1, 1, 0x11, 0]);
  return bytes([0xff, 0xd8], sof, [0xff, 0xda], u16be(8), [1, 1, 0, 0, 0x3f, 0], new Uint8Array(64), [0xff, 0xd9]);
}

function webpCanvas(width: number, height: number): Uint8Array {
  const u24 = (n: number) => u32le(n).subarray(0, 3);
  const vp8x = bytes('VP8X', u32le(10), [0, 0, 0, 0], u24(width - 1), u24(height - 1));
  const body = bytes('WEBP', vp8x, 'VP8L', u32le(5), [0x2f, 0, 0, 0, 0]);
  return bytes('RIFF', u32le(body.byteLength), body);
}

function gifFrames(width: number, height: number, frames: number): Uint8Array {
  const frame = bytes([0x2c], u16le(0, 0, 1, 1), [0], [2, 2, 0x4c, 0x01, 0]);
  return bytes('GIF89a', u16le(width, height), [0, 0, 0], repeat(frame, frames), [0x3b]);
}

export function imageBombs(n: number): Record<string, { mime: string; bytes: Uint8Array }> {
  return {
    'PNG declaring 10^10 pixels': { mime: 'image/png', bytes: png(100_000, 100_000, new Uint8Array(n)) },
    'JPEG declaring 65,000 × 65,000': { mime: 'image/jpeg', bytes: jpegHeader(65_000, 65_000) },
    'progressive JPEG of 7040 × 7040 repeating one scan past the scan cap': {
      mime: 'image/jpeg',
      bytes: progressiveJpeg(7040, MAX_JPEG_SCANS + n),
    },
    'WebP canvas of 16384 × 16384': { mime: 'image/webp', bytes: webpCanvas(16_384, 16_384) },
    'GIF of thousands of frames on a 4000 × 4000 screen': {
      mime: 'image/gif',
      bytes: gifFrames(4000, 4000, n * 4),
    },
  };
}
