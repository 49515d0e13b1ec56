/**
 * An MP4 audio sample entry's real channel count and rate. The entry's own fields are often placeholders (ffmpeg and
 * others write 2 channels for mono AAC), so for AAC the AudioSpecificConfig inside `esds` decides, as ffprobe does.
 * Reads only the bytes of the one sample entry, already in memory.
 */
import { ascii, u16be, u32be } from './source.ts';

const AAC_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
/** Channel configurations 1–7 of ISO 14496-3 (7 is 7.1). */
const AAC_CHANNELS = [0, 1, 2, 3, 4, 5, 6, 8];

export interface AudioEntry {
  sampleRate?: number;
  channels?: number;
}

/** `entry` is the sample entry's offset in `box` (its size field), `end` where the stsd box ends. */
export function audioSampleEntry(box: Uint8Array, entry: number, end: number): AudioEntry {
  if (entry + 36 > end) return {};
  const entryEnd = Math.min(end, entry + u32be(box, entry));
  const fields: AudioEntry = { channels: u16be(box, entry + 24), sampleRate: u32be(box, entry + 32) >>> 16 };
  // QuickTime sound entries of version 1 and 2 carry 16 or 36 more bytes before their children.
  const version = u16be(box, entry + 16);
  let child = entry + 36 + (version === 1 ? 16 : version === 2 ? 36 : 0);
  while (child + 8 <= entryEnd) {
    const size = u32be(box, child);
    if (size < 8 || child + size > entryEnd) break;
    if (ascii(box, child + 4, 4) === 'esds') return { ...fields, ...aacConfig(box.subarray(child + 12, child + size)) };
    child += size;
  }
  return fields;
}

/** Walks ES_Descriptor → DecoderConfigDescriptor → DecoderSpecificInfo to the AudioSpecificConfig. */
function aacConfig(esds: Uint8Array): AudioEntry {
  let at = 0;
  const descriptor = (): { tag: number; start: number; length: number } | undefined => {
    if (at >= esds.byteLength) return undefined;
    const tag = esds[at++] as number;
    let length = 0;
    for (let i = 0; i < 4 && at < esds.byteLength; i++) {
      const byte = esds[at++] as number;
      length = (length << 7) | (byte & 0x7f);
      if (!(byte & 0x80)) break;
    }
    return { tag, start: at, length };
  };
  const es = descriptor();
  if (es?.tag !== 3) return {};
  const flags = esds[at + 2] ?? 0;
  at += 3 + (flags & 0x80 ? 2 : 0);
  if (flags & 0x40) at += 1 + (esds[at] ?? 0);
  if (flags & 0x20) at += 2;
  const decoder = descriptor();
  if (decoder?.tag !== 4 || (esds[at] ?? 0) !== 0x40) return {};
  at += 13;
  const specific = descriptor();
  if (specific?.tag !== 5 || specific.length < 2 || at + 2 > esds.byteLength) return {};
  const bits = ((esds[at] as number) << 8) | (esds[at + 1] as number);
  const rateIndex = (bits >> 7) & 0x0f;
  const channelConfig = (bits >> 3) & 0x0f;
  const sampleRate = AAC_RATES[rateIndex];
  const channels = AAC_CHANNELS[channelConfig];
  return { ...(sampleRate ? { sampleRate } : {}), ...(channels ? { channels } : {}) };
}
