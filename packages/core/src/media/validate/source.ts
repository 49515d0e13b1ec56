/** Random access to a file's bytes, whether they are in memory or on disk, read through a window cache. */
import { collectGarbageEvery } from '../../memory.ts';
import { pace } from './pace.ts';

export interface ByteSource {
  readonly size: number;
  /** Up to `length` bytes at `offset` (fewer only at the end of the source). Every read is a point where a long walk may yield. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.byteLength,
    async read(offset, length) {
      await pace();
      return bytes.subarray(offset, Math.min(offset + length, bytes.byteLength));
    },
  };
}

/** Sequential walks (frames, pages, boxes) read a 1 MiB window at a time instead of one small slice per header. */
const WINDOW = 1024 * 1024;

export function blobSource(blob: Blob): ByteSource {
  let windowStart = 0;
  let window = new Uint8Array(0);
  return {
    size: blob.size,
    async read(offset, length) {
      await pace();
      const end = Math.min(offset + length, blob.size);
      if (offset < windowStart || end > windowStart + window.byteLength) {
        windowStart = offset;
        // A full walk of a large file reads hundreds of windows: collect as it goes, as every long stream does.
        collectGarbageEvery(window.byteLength);
        window = new Uint8Array(
          await blob.slice(offset, Math.min(blob.size, offset + Math.max(length, WINDOW))).arrayBuffer(),
        );
      }
      return window.subarray(offset - windowStart, end - windowStart);
    },
  };
}

export const u16be = (b: Uint8Array, o: number) => ((b[o] as number) << 8) | (b[o + 1] as number);
export const u24be = (b: Uint8Array, o: number) =>
  ((b[o] as number) << 16) | ((b[o + 1] as number) << 8) | (b[o + 2] as number);
export const u32be = (b: Uint8Array, o: number) =>
  (((b[o] as number) << 24) >>> 0) + ((b[o + 1] as number) << 16) + ((b[o + 2] as number) << 8) + (b[o + 3] as number);
export const u32le = (b: Uint8Array, o: number) =>
  (b[o] as number) + ((b[o + 1] as number) << 8) + ((b[o + 2] as number) << 16) + (((b[o + 3] as number) << 24) >>> 0);
export const u16le = (b: Uint8Array, o: number) => (b[o] as number) | ((b[o + 1] as number) << 8);
export const u64be = (b: Uint8Array, o: number) => u32be(b, o) * 2 ** 32 + u32be(b, o + 4);
/** The same 64-bit value in exact decimal digits, for messages (a Number past 2^53 prints rounded). */
export const u64beExact = (b: Uint8Array, o: number) =>
  ((BigInt(u32be(b, o)) << 32n) | BigInt(u32be(b, o + 4))).toString();
export const ascii = (b: Uint8Array, o: number, n: number) => String.fromCharCode(...b.subarray(o, o + n));
