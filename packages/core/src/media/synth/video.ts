/** Sample video: seeded moving frames encoded as H.264 in MP4 (x264 compiled to WebAssembly), rate-controlled to the target size. */
import { prng } from './prng.ts';

const FRAME_RATE = 10;

interface Plan {
  width: number;
  height: number;
  frames: number;
  kbps: number;
}

/** Bigger targets get bigger frames and longer clips so x264's rate control can spend the bits. */
function plan(sizeBytes: number): Plan {
  const [width, height] =
    sizeBytes < 32 * 1024
      ? [64, 48]
      : sizeBytes < 256 * 1024
        ? [128, 96]
        : sizeBytes < 8 * 1024 * 1024
          ? [320, 240]
          : [640, 480];
  const seconds = Math.min(60, Math.max(1, Math.round(sizeBytes / (width * height * 1.2))));
  // The container (moov) costs roughly 40 bytes per frame plus a fixed ~1 KB.
  const frames = seconds * FRAME_RATE;
  const payload = Math.max(sizeBytes - 1000 - frames * 40, sizeBytes * 0.5);
  return { width, height, frames, kbps: Math.max(8, Math.round((payload * 8) / seconds / 1000)) };
}

/**
 * Encodes once and, when x264's rate control misses by more than 15%, once more with the bitrate corrected.
 * Tiny targets have a floor: a valid clip of a few frames is never below a few kilobytes.
 */
export async function synthesizeVideo(sizeBytes: number, seed: number): Promise<Uint8Array> {
  const first = plan(sizeBytes);
  const bytes = await encodeClip(first, seed, noiseFor(sizeBytes));
  const ratio = bytes.byteLength / sizeBytes;
  if (Math.abs(ratio - 1) <= 0.15) return bytes;
  const retry = await encodeClip(
    { ...first, kbps: Math.max(1, Math.round(first.kbps / ratio)) },
    seed,
    noiseFor(sizeBytes),
  );
  return Math.abs(retry.byteLength - sizeBytes) < Math.abs(bytes.byteLength - sizeBytes) ? retry : bytes;
}

/** Flat frames compress to almost nothing; noise gives the encoder something to spend bits on. */
function noiseFor(sizeBytes: number): number {
  return sizeBytes < 4 * 1024 ? 0 : sizeBytes < 64 * 1024 ? 12 : sizeBytes < 1024 * 1024 ? 24 : 90;
}

async function encodeClip({ width, height, frames, kbps }: Plan, seed: number, noise: number): Promise<Uint8Array> {
  // Loaded on first use: the encoder's WebAssembly heap is not worth holding in processes that never make video.
  const { createH264MP4Encoder } = await import('h264-mp4-encoder');
  const encoder = await createH264MP4Encoder();
  encoder.width = width;
  encoder.height = height;
  encoder.frameRate = FRAME_RATE;
  encoder.kbps = kbps;
  encoder.speed = 10;
  encoder.groupOfPictures = FRAME_RATE * 2;
  encoder.outputFilename = `mediaforge-${process.pid}-${seed}-${Date.now()}.mp4`;
  encoder.initialize();
  try {
    const random = prng(seed);
    const base = [random() * 255, random() * 255, random() * 255] as const;
    const rgba = new Uint8Array(width * height * 4);
    for (let frame = 0; frame < frames; frame++) {
      let i = 0;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const n = (random() - 0.5) * noise;
          rgba[i++] = (base[0] + x + frame * 3 + n) & 255;
          rgba[i++] = (base[1] + y + frame * 2 + n) & 255;
          rgba[i++] = (base[2] + ((x * y) >> 6) + n) & 255;
          rgba[i++] = 255;
        }
      }
      encoder.addFrameRgba(rgba);
    }
    encoder.finalize();
    const bytes = encoder.FS.readFile(encoder.outputFilename);
    encoder.FS.unlink(encoder.outputFilename);
    return clearTimestamps(bytes);
  } finally {
    encoder.delete();
  }
}

const CONTAINERS = new Set(['moov', 'trak', 'mdia']);
const TIMED = new Set(['mvhd', 'tkhd', 'mdhd']);

/**
 * The muxer stamps the wall clock into the movie, track and media headers; zeroing those times (1904-01-01, as
 * many encoders write when they have no date) keeps the output a pure function of the seed.
 */
function clearTimestamps(bytes: Uint8Array, start = 0, end = bytes.byteLength): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let offset = start; offset + 8 <= end; ) {
    const size = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    if (size < 8 || offset + size > end) break;
    if (CONTAINERS.has(type)) clearTimestamps(bytes, offset + 8, offset + size);
    if (TIMED.has(type)) {
      // Version 0: two 32-bit times after version/flags; version 1: two 64-bit times.
      const width = bytes[offset + 8] === 1 ? 16 : 8;
      bytes.fill(0, offset + 12, offset + 12 + width);
    }
    offset += size;
  }
  return bytes;
}
