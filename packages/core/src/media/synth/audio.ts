/** Sample audio: a chirp encoded as MP3 (lamejs, streamed frame block by frame block) or PCM WAV, sized by duration. */
import { Mp3Encoder } from '@breezystack/lamejs';
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

function* mp3Chunks(sizeBytes: number, seed: number): Generator<Uint8Array> {
  const kbps = mp3Bitrate(sizeBytes);
  const frameBytes = (144 * kbps * 1000) / MP3_RATE;
  // The encoder emits a couple of frames of delay at flush; leave room for them.
  const frames = Math.max(3, Math.floor(sizeBytes / frameBytes) - 2);
  const encoder = new Mp3Encoder(1, MP3_RATE, kbps);
  const wave = chirp(seed);
  const block = new Int16Array(FRAME_SAMPLES * FRAMES_PER_CHUNK);
  let sample = 0;
  for (let done = 0; done < frames; done += FRAMES_PER_CHUNK) {
    const count = Math.min(FRAMES_PER_CHUNK, frames - done) * FRAME_SAMPLES;
    for (let i = 0; i < count; i++) block[i] = Math.round(wave(sample++, MP3_RATE) * 32767);
    const out = encoder.encodeBuffer(block.subarray(0, count));
    if (out.length > 0) yield new Uint8Array(out.buffer, out.byteOffset, out.length).slice();
  }
  const tail = encoder.flush();
  if (tail.length > 0) yield new Uint8Array(tail.buffer, tail.byteOffset, tail.length).slice();
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
