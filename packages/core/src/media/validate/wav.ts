/** WAV: RIFF chunk sizes must fit the file, with a format chunk and a whole data chunk. */
import type { FormatInfo } from './media-info.ts';
import { fail } from './problem.ts';
import { ascii, type ByteSource, u16le, u32le } from './source.ts';

const FORMATS: Record<number, string> = { 1: 'pcm', 3: 'pcm_float', 6: 'alaw', 7: 'mulaw', 65534: 'extensible' };

/**
 * Codes whose frames are whole samples side by side (PCM, float, A-law, µ-law, and extensible, whose bits per sample
 * is the container's): a frame is channels × ⌈bits ÷ 8⌉ bytes and the byte rate is the sample rate × the frame. Other
 * codes (ADPCM and the like) have their own block rules and are only checked for zeros.
 */
const SAMPLE_FRAMED = new Set([1, 3, 6, 7, 65534]);

/** The least byte rate a coded (not sample-framed) WAV may declare: 0.8 kbit/s. */
const MIN_CODED_BYTE_RATE = 100;

export async function validateWav(source: ByteSource): Promise<FormatInfo> {
  const header = await source.read(0, 12);
  if (header.byteLength < 12 || ascii(header, 0, 4) !== 'RIFF' || ascii(header, 8, 4) !== 'WAVE')
    fail('not a RIFF/WAVE file');
  const riffEnd = 8 + u32le(header, 4);
  if (riffEnd > source.size) fail(`RIFF header declares ${riffEnd} bytes but the file has ${source.size} (truncated)`);
  let offset = 12;
  let format:
    | { code: number; channels: number; sampleRate: number; byteRate: number; blockAlign: number; bits: number }
    | undefined;
  let dataSize: number | undefined;
  while (offset + 8 <= riffEnd) {
    const chunk = await source.read(offset, 8);
    const id = ascii(chunk, 0, 4);
    const size = u32le(chunk, 4);
    const end = offset + 8 + size + (size & 1);
    if (offset + 8 + size > riffEnd)
      fail(`chunk "${id}" at offset ${offset} runs ${offset + 8 + size - riffEnd} bytes past the end (truncated)`);
    if (id === 'fmt ') {
      const body = await source.read(offset + 8, 16);
      if (size < 16 || body.byteLength < 16) fail('format chunk is too short');
      format = {
        code: u16le(body, 0),
        channels: u16le(body, 2),
        sampleRate: u32le(body, 4),
        byteRate: u32le(body, 8),
        blockAlign: u16le(body, 12),
        bits: u16le(body, 14),
      };
    } else if (id === 'data') {
      dataSize = size;
    }
    offset = end;
  }
  if (!format) fail('no "fmt " chunk');
  if (dataSize === undefined) fail('no "data" chunk');
  if (format.channels === 0 || format.sampleRate === 0 || format.byteRate === 0 || format.blockAlign === 0)
    fail('format chunk has zero channels, rate, byte rate or block align');
  if (SAMPLE_FRAMED.has(format.code)) checkSampleFrames(format);
  // Any other code's byte rate is its average: below 100 bytes a second (0.8 kbit/s, under any speech codec) it is
  // not a rate but a lie, and the duration it gives (data ÷ rate) would be one too (16 KB at 1 B/s: 16,000 s).
  else if (format.byteRate < MIN_CODED_BYTE_RATE) {
    fail(`format chunk's byte rate ${format.byteRate} is under ${MIN_CODED_BYTE_RATE} bytes a second`);
  }
  return {
    codec: FORMATS[format.code] ?? `wav-0x${format.code.toString(16)}`,
    channels: format.channels,
    sampleRate: format.sampleRate,
    ...(format.bits ? { bitsPerSample: format.bits } : {}),
    durationSeconds: dataSize / format.byteRate,
    bitrate: format.byteRate * 8,
  };
}

/** A header whose numbers contradict each other (a frame that is not its samples, a rate that is not its frames). */
function checkSampleFrames(format: {
  channels: number;
  sampleRate: number;
  byteRate: number;
  blockAlign: number;
  bits: number;
}): void {
  const { channels, sampleRate, byteRate, blockAlign, bits } = format;
  if (bits === 0 || bits > 64) fail(`format chunk declares ${bits} bits per sample (1–64)`);
  const frame = channels * Math.ceil(bits / 8);
  if (blockAlign !== frame) {
    fail(
      `format chunk's block align ${blockAlign} is not ${channels} channels × ${Math.ceil(bits / 8)} bytes (${frame})`,
    );
  }
  if (byteRate !== sampleRate * blockAlign) {
    fail(`format chunk's byte rate ${byteRate} is not ${sampleRate} Hz × ${blockAlign} bytes a frame`);
  }
}
