/** MP3 and AAC (ADTS): walk the whole frame chain; every frame must be whole and follow the previous one. */
import type { FormatInfo } from './media-info.ts';
import { fail } from './problem.ts';
import { ascii, type ByteSource } from './source.ts';

const BITRATES_V1_L3 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const BITRATES_V1_L2 = [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384];
const BITRATES_V1_L1 = [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448];
const BITRATES_V2_L1 = [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256];
const BITRATES_V2_L23 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const SAMPLE_RATES = [44100, 48000, 32000];
const ADTS_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

interface Frame {
  length: number;
  samples: number;
  sampleRate: number;
  channels: number;
}

/** Skips an ID3v2 tag at `offset`, returning where the audio starts. */
async function skipId3v2(source: ByteSource, offset: number): Promise<number> {
  const header = await source.read(offset, 10);
  if (header.byteLength < 10 || ascii(header, 0, 3) !== 'ID3') return offset;
  const size =
    ((header[6] as number) << 21) |
    ((header[7] as number) << 14) |
    ((header[8] as number) << 7) |
    (header[9] as number);
  const footer = ((header[5] as number) & 0x10) !== 0 ? 10 : 0;
  const end = offset + 10 + size + footer;
  if (end > source.size) fail(`ID3v2 tag claims ${size} bytes but the file ends first (truncated)`);
  return end;
}

export function mp3Frame(h: Uint8Array): Frame | undefined {
  if (h[0] !== 0xff || ((h[1] as number) & 0xe0) !== 0xe0) return undefined;
  const version = ((h[1] as number) >> 3) & 3; // 0 = 2.5, 2 = 2, 3 = 1
  const layer = ((h[1] as number) >> 1) & 3; // 1 = III, 2 = II, 3 = I
  const bitrateIndex = (h[2] as number) >> 4;
  const rateIndex = ((h[2] as number) >> 2) & 3;
  if (version === 1 || layer === 0 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return undefined;
  const v1 = version === 3;
  const table = v1
    ? layer === 3
      ? BITRATES_V1_L1
      : layer === 2
        ? BITRATES_V1_L2
        : BITRATES_V1_L3
    : layer === 3
      ? BITRATES_V2_L1
      : BITRATES_V2_L23;
  const bitrate = (table[bitrateIndex] as number) * 1000;
  const sampleRate = (SAMPLE_RATES[rateIndex] as number) / (v1 ? 1 : version === 2 ? 2 : 4);
  const padding = ((h[2] as number) >> 1) & 1;
  const channels = (h[3] as number) >> 6 === 3 ? 1 : 2;
  if (layer === 3)
    return { length: (Math.floor((12 * bitrate) / sampleRate) + padding) * 4, samples: 384, sampleRate, channels };
  const samples = layer === 2 ? 1152 : v1 ? 1152 : 576;
  return { length: Math.floor(((samples / 8) * bitrate) / sampleRate) + padding, samples, sampleRate, channels };
}

function adtsFrame(h: Uint8Array): Frame | undefined {
  if (h[0] !== 0xff || ((h[1] as number) & 0xf6) !== 0xf0) return undefined;
  const rateIndex = ((h[2] as number) >> 2) & 0xf;
  const sampleRate = ADTS_RATES[rateIndex];
  const length = (((h[3] as number) & 3) << 11) | ((h[4] as number) << 3) | ((h[5] as number) >> 5);
  const channels = (((h[2] as number) & 1) << 2) | ((h[3] as number) >> 6);
  if (!sampleRate || length < 7) return undefined;
  return { length, samples: 1024 * (((h[6] as number) & 3) + 1), sampleRate, channels };
}

/** Trailing tags that may follow the last frame. */
async function isTrailer(source: ByteSource, offset: number): Promise<boolean> {
  const rest = source.size - offset;
  const head = await source.read(offset, 8);
  if (rest === 128 && ascii(head, 0, 3) === 'TAG') return true;
  if (ascii(head, 0, 8) === 'APETAGEX' || ascii(head, 0, 6) === 'LYRICS') return true;
  // Some encoders pad the end with zeros; accept a little of it, never read megabytes to find out.
  return rest <= 64 * 1024 && (await source.read(offset, rest)).every((byte) => byte === 0);
}

async function walkFrames(
  source: ByteSource,
  parse: (header: Uint8Array) => Frame | undefined,
  headerSize: number,
  name: string,
): Promise<FormatInfo> {
  let offset = await skipId3v2(source, 0);
  let frames = 0;
  let samples = 0;
  let first: Frame | undefined;
  while (offset < source.size) {
    const header = await source.read(offset, headerSize);
    const frame = header.byteLength === headerSize ? parse(header) : undefined;
    if (!frame) {
      if (frames > 0 && (await isTrailer(source, offset))) break;
      if (frames === 0) fail(`no ${name} frame at offset ${offset}`);
      fail(`${name} frame ${frames + 1} at offset ${offset} is broken or truncated (lost frame sync)`);
    }
    if (offset + frame.length > source.size) {
      fail(
        `${name} frame ${frames + 1} at offset ${offset} needs ${frame.length} bytes but only ${source.size - offset} remain (truncated)`,
      );
    }
    first ??= frame;
    frames += 1;
    samples += frame.samples;
    offset += frame.length;
  }
  if (!first || frames < 2) fail(`only ${frames} ${name} frame(s); not playable audio`);
  const durationSeconds = samples / first.sampleRate;
  return {
    durationSeconds,
    sampleRate: first.sampleRate,
    channels: first.channels,
    bitrate: Math.round((source.size * 8) / durationSeconds),
  };
}

export async function validateMp3(source: ByteSource): Promise<FormatInfo> {
  return { ...(await walkFrames(source, mp3Frame, 4, 'MPEG audio')), codec: 'mp3' };
}

export async function validateAdts(source: ByteSource): Promise<FormatInfo> {
  return { ...(await walkFrames(source, adtsFrame, 7, 'ADTS')), codec: 'aac' };
}
