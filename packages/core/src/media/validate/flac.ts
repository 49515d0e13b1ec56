/**
 * FLAC: metadata blocks inside the file, then every audio frame found by its header checksum and
 * verified by its CRC-16; the frames' samples must add up to STREAMINFO's total.
 */
import { CRC16, crc8 } from './crc.ts';
import type { FormatInfo } from './media-info.ts';
import { fail } from './problem.ts';
import { ascii, type ByteSource, u24be } from './source.ts';

const CHUNK = 1024 * 1024;

export async function validateFlac(source: ByteSource): Promise<FormatInfo> {
  const magic = await source.read(0, 4);
  if (ascii(magic, 0, 4) !== 'fLaC') fail('missing fLaC signature');
  let offset = 4;
  let info: { sampleRate: number; channels: number; bitsPerSample: number; totalSamples: number } | undefined;
  for (let last = false; !last; ) {
    const header = await source.read(offset, 4);
    if (header.byteLength < 4) fail('metadata is truncated');
    last = ((header[0] as number) & 0x80) !== 0;
    const length = u24be(header, 1);
    if (offset + 4 + length > source.size) fail(`metadata block at offset ${offset} runs past the end (truncated)`);
    if (((header[0] as number) & 0x7f) === 0) {
      const s = await source.read(offset + 4, 34);
      const sampleRate = ((s[10] as number) << 12) | ((s[11] as number) << 4) | ((s[12] as number) >> 4);
      const channels = (((s[12] as number) >> 1) & 7) + 1;
      const bitsPerSample = ((((s[12] as number) & 1) << 4) | ((s[13] as number) >> 4)) + 1;
      const totalSamples =
        ((s[13] as number) & 0x0f) * 2 ** 32 +
        (((s[14] as number) << 24) >>> 0) +
        ((s[15] as number) << 16) +
        ((s[16] as number) << 8) +
        (s[17] as number);
      info = { sampleRate, channels, bitsPerSample, totalSamples };
    }
    offset += 4 + length;
  }
  if (!info || info.sampleRate === 0) fail('no valid STREAMINFO block');
  const samples = await walkFrames(source, offset);
  if (info.totalSamples > 0 && samples !== info.totalSamples) {
    fail(`frames hold ${samples} samples but STREAMINFO declares ${info.totalSamples} (truncated)`);
  }
  const durationSeconds = (info.totalSamples || samples) / info.sampleRate;
  return {
    codec: 'flac',
    sampleRate: info.sampleRate,
    channels: info.channels,
    bitsPerSample: info.bitsPerSample,
    durationSeconds,
    bitrate: Math.round((source.size * 8) / durationSeconds),
  };
}

/** Block size of a frame whose header starts at `h[0]`, or undefined when the bytes are not a valid header. */
function frameHeader(h: Uint8Array): { blockSize: number } | undefined {
  if (h[0] !== 0xff || ((h[1] as number) & 0xfe) !== 0xf8) return undefined;
  const sizeCode = (h[2] as number) >> 4;
  const rateCode = (h[2] as number) & 0x0f;
  if (sizeCode === 0 || rateCode === 15 || (h[3] as number) >> 4 > 10) return undefined;
  let p = 4;
  const lead = h[p] as number;
  const extra =
    lead < 0x80
      ? 0
      : lead >= 0xfe
        ? 6
        : lead >= 0xfc
          ? 5
          : lead >= 0xf8
            ? 4
            : lead >= 0xf0
              ? 3
              : lead >= 0xe0
                ? 2
                : lead >= 0xc0
                  ? 1
                  : -1;
  if (extra < 0) return undefined;
  p += 1 + extra;
  let blockSize: number;
  if (sizeCode === 1) blockSize = 192;
  else if (sizeCode <= 5) blockSize = 576 * 2 ** (sizeCode - 2);
  else if (sizeCode === 6) blockSize = (h[p++] as number) + 1;
  else if (sizeCode === 7) {
    blockSize = ((h[p] as number) << 8) + (h[p + 1] as number) + 1;
    p += 2;
  } else blockSize = 256 * 2 ** (sizeCode - 8);
  if (rateCode === 12) p += 1;
  else if (rateCode === 13 || rateCode === 14) p += 2;
  if (p >= h.byteLength || crc8(h.subarray(0, p)) !== h[p]) return undefined;
  return { blockSize };
}

async function walkFrames(source: ByteSource, start: number): Promise<number> {
  let samples = 0;
  let frameStart = start;
  let pending: number | undefined; // block size of the frame that began at frameStart
  let crc = 0; // CRC-16 of bytes from frameStart up to the scan position
  const first = frameHeader(await source.read(start, 16));
  if (!first) fail(`no audio frame where the metadata ends (offset ${start})`);
  pending = first.blockSize;
  // Scan byte by byte for the next valid header whose preceding frame checks out.
  let scanned = start;
  while (scanned < source.size) {
    const chunk = await source.read(scanned, Math.min(CHUNK, source.size - scanned));
    for (let i = 0; i < chunk.byteLength; i++) {
      const at = scanned + i;
      // Only a sync code (0xFFF8/0xFFF9) can start a header; a read is needed only where a header crosses the chunk.
      const next = i + 1 < chunk.byteLength ? (chunk[i + 1] as number) : 0xf8;
      if (at > frameStart + 1 && chunk[i] === 0xff && (next & 0xfe) === 0xf8) {
        const candidate = frameHeader(
          i + 16 <= chunk.byteLength ? chunk.subarray(i, i + 16) : await source.read(at, 16),
        );
        // A frame ends with its own CRC-16, so the CRC over frame+footer is 0 exactly when it is whole.
        if (candidate && crc === 0) {
          samples += pending;
          frameStart = at;
          pending = candidate.blockSize;
        }
      }
      const previous = at === frameStart ? 0 : crc;
      crc = ((previous << 8) ^ (CRC16[((previous >> 8) ^ (chunk[i] as number)) & 0xff] as number)) & 0xffff;
    }
    scanned += chunk.byteLength;
  }
  if (crc !== 0) fail(`the last frame (offset ${frameStart}) fails its CRC-16 (truncated or corrupted)`);
  return samples + pending;
}
