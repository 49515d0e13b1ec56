/**
 * Sample video: a seeded clip of moving frames encoded once as H.264 (x264 compiled to WebAssembly), then looped
 * into an MP4 written by our own muxer. The clip is one group of pictures starting at an IDR frame, so every loop
 * decodes on its own; the file is exactly the requested size (a `free` box takes the last few bytes) and is
 * streamed, holding only the clip (a few MiB at most) whatever the size.
 */
import { FileProcessingError } from '../../errors.ts';
import { containerBytes, MAX_MP4_BYTES, mp4Head, type TrackLayout } from './mp4-mux.ts';
import { prng, streamFrom } from './prng.ts';

const FRAME_RATE = 10;
/** Frames in the clip: two seconds, one group of pictures. */
const CLIP_FRAMES = 20;
const CHUNK_BYTES = 256 * 1024;
/** NAL unit types: supplemental enhancement information (x264 writes its settings there) and IDR slices. */
const NAL_SEI = 6;
const NAL_IDR = 5;

interface Plan {
  width: number;
  height: number;
  kbps: number;
  /** Amplitude of the per-pixel noise: flat frames compress to almost nothing. */
  noise: number;
}

interface Clip {
  width: number;
  height: number;
  avcC: Uint8Array;
  frames: Uint8Array[];
  /** Which frames are IDR (x264 may add one at a scene cut). */
  idr: boolean[];
}

/** Bigger targets get bigger frames and a higher bitrate, so the loop runs a sensible length (up to ~60 s). */
function plan(sizeBytes: number): Plan {
  const [width, height] =
    sizeBytes < 4 * 1024
      ? [32, 32]
      : sizeBytes < 32 * 1024
        ? [64, 48]
        : sizeBytes < 256 * 1024
          ? [128, 96]
          : sizeBytes < 8 * 1024 * 1024
            ? [320, 240]
            : [640, 480];
  const seconds = Math.min(60, Math.max(1, Math.round(sizeBytes / (width * height * 1.2))));
  const noise =
    sizeBytes < 4 * 1024 ? 0 : sizeBytes < 64 * 1024 ? 12 : sizeBytes < 1024 * 1024 ? 24 : sizeBytes < 8e6 ? 60 : 90;
  return { width, height, noise, kbps: Math.max(4, Math.round((sizeBytes * 8) / seconds / 1000)) };
}

export async function synthesizeVideo(sizeBytes: number, seed: number): Promise<ReadableStream<Uint8Array>> {
  if (sizeBytes > MAX_MP4_BYTES) {
    throw new FileProcessingError(
      `Video synthesis is limited to ${MAX_MP4_BYTES} bytes (got ${sizeBytes}).`,
      'INVALID_SIZE',
    );
  }
  const clip = await encodeClip(plan(sizeBytes), seed);
  const layout = layoutFor(clip, sizeBytes);
  return streamFrom(mp4Chunks(clip, layout.track, layout.padding));
}

/** The most frames (looping the clip) that fit, and the padding that brings the file to exactly `sizeBytes`. */
function layoutFor(clip: Clip, sizeBytes: number): { track: TrackLayout; padding: number } {
  const sizes: number[] = [];
  const sync: number[] = [];
  let media = 0;
  let best: { samples: number; syncs: number; padding: number } | undefined;
  for (let n = 1; ; n++) {
    const frame = (n - 1) % clip.frames.length;
    if (clip.idr[frame]) sync.push(n);
    sizes.push((clip.frames[frame] as Uint8Array).byteLength);
    media += sizes[n - 1] as number;
    const padding = sizeBytes - containerBytes(n, sync.length, clip.avcC.byteLength) - media;
    if (padding < 0) break;
    // A box has an 8-byte header, so 1-7 spare bytes cannot be padded: one frame fewer leaves more room.
    if (padding === 0 || padding >= 8) best = { samples: n, syncs: sync.length, padding };
  }
  if (!best) {
    throw new FileProcessingError(
      `${sizeBytes} bytes is too small for a playable MP4 (one ${clip.width}x${clip.height} frame needs more).`,
      'INVALID_SIZE',
    );
  }
  const track: TrackLayout = {
    width: clip.width,
    height: clip.height,
    frameRate: FRAME_RATE,
    avcC: clip.avcC,
    sampleSizes: sizes.slice(0, best.samples),
    syncSamples: sync.slice(0, best.syncs),
  };
  return { track, padding: best.padding };
}

function* mp4Chunks(clip: Clip, track: TrackLayout, padding: number): Generator<Uint8Array> {
  yield mp4Head(track, padding);
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  for (let n = 0; n < track.sampleSizes.length; n++) {
    const frame = clip.frames[n % clip.frames.length] as Uint8Array;
    if (pendingBytes > 0 && pendingBytes + frame.byteLength > CHUNK_BYTES) {
      // A fresh buffer per chunk: consumers may keep or transfer what they are given.
      yield Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
    }
    pending.push(frame);
    pendingBytes += frame.byteLength;
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}

async function encodeClip({ width, height, kbps, noise }: Plan, seed: number): Promise<Clip> {
  // Loaded on first use: the encoder's WebAssembly heap is not worth holding in processes that never make video.
  const { createH264MP4Encoder } = await import('h264-mp4-encoder');
  const encoder = await createH264MP4Encoder();
  encoder.width = width;
  encoder.height = height;
  encoder.frameRate = FRAME_RATE;
  encoder.kbps = kbps;
  encoder.speed = 10;
  encoder.groupOfPictures = CLIP_FRAMES;
  encoder.outputFilename = `mediaforge-${process.pid}-${seed}-${Date.now()}.mp4`;
  encoder.initialize();
  try {
    const random = prng(seed);
    const base = [random() * 255, random() * 255, random() * 255] as const;
    const rgba = new Uint8Array(width * height * 4);
    for (let frame = 0; frame < CLIP_FRAMES; frame++) {
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
    return readClip(bytes, width, height);
  } finally {
    encoder.delete();
  }
}

/** Finds the child box `type` between `start` and `end`, returning its payload range. */
function child(bytes: Uint8Array, start: number, end: number, type: string): { body: number; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let offset = start; offset + 8 <= end; ) {
    const size = view.getUint32(offset);
    if (size < 8) break;
    if (String.fromCharCode(...bytes.subarray(offset + 4, offset + 8)) === type) {
      return { body: offset + 8, end: offset + size };
    }
    offset += size;
  }
  throw new Error(`the encoder's MP4 has no "${type}" box`);
}

/** Takes the encoder's MP4 apart: the decoder configuration and each frame, without x264's SEI banner. */
function readClip(bytes: Uint8Array, width: number, height: number): Clip {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let range = child(bytes, 0, bytes.byteLength, 'moov');
  for (const type of ['trak', 'mdia', 'minf', 'stbl']) range = child(bytes, range.body, range.end, type);
  const stbl = range;
  const stsd = child(bytes, stbl.body, stbl.end, 'stsd');
  // stsd: version/flags, entry count, then the avc1 entry, whose child boxes follow 78 bytes of fields.
  const avc1 = child(bytes, stsd.body + 8, stsd.end, 'avc1');
  const avcC = child(bytes, avc1.body + 78, avc1.end, 'avcC');
  const lengthSize = ((bytes[avcC.body + 4] as number) & 3) + 1;
  const stsz = child(bytes, stbl.body, stbl.end, 'stsz');
  const stsc = child(bytes, stbl.body, stbl.end, 'stsc');
  const stco = child(bytes, stbl.body, stbl.end, 'stco');
  const count = view.getUint32(stsz.body + 8);
  const chunkCount = view.getUint32(stco.body + 4);
  const runs = view.getUint32(stsc.body + 4);
  const frames: Uint8Array[] = [];
  for (let chunk = 1, run = 0; chunk <= chunkCount; chunk++) {
    while (run + 1 < runs && view.getUint32(stsc.body + 8 + (run + 1) * 12) <= chunk) run++;
    const perChunk = view.getUint32(stsc.body + 8 + run * 12 + 4);
    let offset = view.getUint32(stco.body + 8 + (chunk - 1) * 4);
    for (let i = 0; i < perChunk && frames.length < count; i++) {
      const size = view.getUint32(stsz.body + 12 + frames.length * 4);
      frames.push(withoutSei(bytes.subarray(offset, offset + size), lengthSize));
      offset += size;
    }
  }
  if (frames.length === 0 || !isIdr(frames[0] as Uint8Array, lengthSize)) {
    throw new Error('the encoder did not start the clip with an IDR frame');
  }
  const start = avcC.body - 8;
  return { width, height, avcC: bytes.slice(start, avcC.end), frames, idr: frames.map((f) => isIdr(f, lengthSize)) };
}

function* nalUnits(sample: Uint8Array, lengthSize: number): Generator<Uint8Array> {
  for (let offset = 0; offset + lengthSize <= sample.byteLength; ) {
    let length = 0;
    for (let i = 0; i < lengthSize; i++) length = length * 256 + (sample[offset + i] as number);
    yield sample.subarray(offset, offset + lengthSize + length);
    offset += lengthSize + length;
  }
}

function withoutSei(sample: Uint8Array, lengthSize: number): Uint8Array {
  const kept = [...nalUnits(sample, lengthSize)].filter((nal) => ((nal[lengthSize] as number) & 0x1f) !== NAL_SEI);
  return Buffer.concat(kept);
}

function isIdr(sample: Uint8Array, lengthSize: number): boolean {
  return [...nalUnits(sample, lengthSize)].some((nal) => ((nal[lengthSize] as number) & 0x1f) === NAL_IDR);
}
