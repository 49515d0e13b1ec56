/** Sample audio: a chirp encoded as MP3 (lamejs, streamed frame block by frame block) or PCM WAV, sized by duration. */
import { Mp3Encoder } from '@breezystack/lamejs';
import { mp3Frame } from '../validate/mpeg-audio.ts';
import { prng, streamFrom } from './prng.ts';

const MP3_RATE = 32000;
/** Samples per MPEG-1 Layer III frame. */
const FRAME_SAMPLES = 1152;
const FRAMES_PER_CHUNK = 64;
const WAV_RATE = 22050;

function mp3Bitrate(sizeBytes: number): number {
  if (sizeBytes < 16 * 1024) return 32;
  if (sizeBytes < 256 * 1024) return 64;
  if (sizeBytes < 4 * 1024 * 1024) return 128;
  return 320;
}

/** A gentle rising tone whose start pitch and sweep depend on the seed. */
function chirp(seed: number): (sample: number, rate: number) => number {
  const random = prng(seed);
  const start = 220 + random() * 220;
  const sweep = 20 + random() * 40;
  let phase = 0;
  return (sample, rate) => {
    const t = sample / rate;
    phase += (2 * Math.PI * (start + sweep * (t % 8))) / rate;
    return Math.sin(phase) * 0.5 * (1 - 0.2 * Math.cos(2 * Math.PI * 2 * t));
  };
}

/**
 * MP3 frames carry no pointer before the first frame of a stream (main_data_begin is 0 there), so a whole encoded
 * block, starting at its first frame, can be repeated: each copy decodes on its own. Encoding one block and
 * looping it makes 100 MB as cheap as 1 MB.
 */
function encodeBlock(frames: number, kbps: number, seed: number): Uint8Array {
  const encoder = new Mp3Encoder(1, MP3_RATE, kbps);
  const wave = chirp(seed);
  const block = new Int16Array(FRAME_SAMPLES * FRAMES_PER_CHUNK);
  const out: Uint8Array[] = [];
  let sample = 0;
  for (let done = 0; done < frames; done += FRAMES_PER_CHUNK) {
    const count = Math.min(FRAMES_PER_CHUNK, frames - done) * FRAME_SAMPLES;
    for (let i = 0; i < count; i++) block[i] = Math.round(wave(sample++, MP3_RATE) * 32767);
    out.push(encoder.encodeBuffer(block.subarray(0, count)));
  }
  out.push(encoder.flush());
  return Buffer.concat(out.map((part) => new Uint8Array(part.buffer, part.byteOffset, part.length)));
}

/** An ID3v2.3 tag of exactly `bytes` bytes (at least ID3_MIN_BYTES): a TSSE frame naming us, then zero padding. */
function id3Tag(bytes: number): Uint8Array {
  const tag = Buffer.alloc(bytes);
  tag.write('ID3', 0, 'latin1');
  tag[3] = 3;
  const size = bytes - 10;
  tag.set([(size >> 21) & 0x7f, (size >> 14) & 0x7f, (size >> 7) & 0x7f, size & 0x7f], 6);
  tag.write('TSSE', 10, 'latin1');
  tag.writeUInt32BE(1 + ENCODER_NAME.length, 14);
  tag.write(ENCODER_NAME, 21, 'latin1');
  return tag;
}

const ENCODER_NAME = 'mediaforge';
/** Tag header, frame header, encoding byte and the name. */
const ID3_MIN_BYTES = 10 + 10 + 1 + ENCODER_NAME.length;
/** Frames of input encoded once and then looped (2.3 s of audio): lamejs, pure JS, encodes ~10-30× real time. */
const BLOCK_FRAMES = 64;

/** Byte offset of each frame in an encoded block, plus its end. */
function frameOffsets(block: Uint8Array): number[] {
  const offsets = [0];
  for (let offset = 0; offset < block.byteLength; ) {
    const frame = mp3Frame(block.subarray(offset, offset + 4));
    if (!frame) throw new Error(`lamejs wrote no frame header at offset ${offset}`);
    offset += frame.length;
    offsets.push(Math.min(offset, block.byteLength));
  }
  return offsets;
}

/**
 * Exactly `sizeBytes`: whole frames, and an ID3v2 tag whose padding takes what a frame cannot. LAME may resample
 * low bitrates (to 22.05 kHz at 32 kbps), where frames vary by a padding byte, so sizes are read off the block.
 */
function* mp3Chunks(sizeBytes: number, seed: number): Generator<Uint8Array> {
  const kbps = mp3Bitrate(sizeBytes);
  const nominalFrameBytes = (144 * kbps * 1000) / MP3_RATE;
  const block = encodeBlock(Math.min(BLOCK_FRAMES, Math.ceil(sizeBytes / nominalFrameBytes)), kbps, seed);
  const offsets = frameOffsets(block);
  const blockFrames = offsets.length - 1;
  let frames = 0;
  let bytes = 0;
  let best = { frames: 0, bytes: 0 };
  for (;;) {
    const at = frames % blockFrames;
    const length = (offsets[at + 1] as number) - (offsets[at] as number);
    if (bytes + length > sizeBytes) break;
    frames += 1;
    bytes += length;
    const rest = sizeBytes - bytes;
    if (rest === 0 || rest >= ID3_MIN_BYTES) best = { frames, bytes };
  }
  if (best.bytes < sizeBytes) yield id3Tag(sizeBytes - best.bytes);
  for (let done = 0; done < best.frames; ) {
    const start = done % blockFrames;
    const count = Math.min(FRAMES_PER_CHUNK, blockFrames - start, best.frames - done);
    yield block.slice(offsets[start], offsets[start + count]);
    done += count;
  }
}

function wavHeader(dataBytes: number): Uint8Array {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVEfmt ', 8, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(WAV_RATE, 24);
  header.writeUInt32LE(WAV_RATE * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

function* wavChunks(sizeBytes: number, seed: number): Generator<Uint8Array> {
  const samples = Math.max(1, Math.floor((sizeBytes - 44) / 2));
  yield wavHeader(samples * 2);
  const wave = chirp(seed);
  const chunk = 32 * 1024;
  for (let start = 0; start < samples; start += chunk) {
    const count = Math.min(chunk, samples - start);
    const pcm = new Int16Array(count);
    for (let i = 0; i < count; i++) pcm[i] = Math.round(wave(start + i, WAV_RATE) * 32767);
    yield new Uint8Array(pcm.buffer);
  }
}

export function synthesizeMp3(sizeBytes: number, seed: number): ReadableStream<Uint8Array> {
  return streamFrom(mp3Chunks(sizeBytes, seed));
}

export function synthesizeWav(sizeBytes: number, seed: number): ReadableStream<Uint8Array> {
  return streamFrom(wavChunks(sizeBytes, seed));
}
