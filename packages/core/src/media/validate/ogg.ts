/** Ogg (Vorbis, Opus): every page whole with a correct checksum, the stream ended by an end-of-stream page. */
import { crc32Ogg } from './crc.ts';
import type { FormatInfo } from './media-info.ts';
import { fail } from './problem.ts';
import { ascii, type ByteSource, u16le, u32le } from './source.ts';

export async function validateOgg(source: ByteSource): Promise<FormatInfo> {
  let offset = 0;
  let pages = 0;
  let ended = false;
  let codec: string | undefined;
  let sampleRate = 0;
  let channels = 0;
  let preSkip = 0;
  let lastGranule = 0;
  while (offset < source.size) {
    const header = await source.read(offset, 282);
    if (header.byteLength < 27 || ascii(header, 0, 4) !== 'OggS') {
      fail(`no Ogg page at offset ${offset} (${header.byteLength < 27 ? 'truncated' : 'corrupted'})`);
    }
    const segments = header[26] as number;
    if (header.byteLength < 27 + segments) fail(`page ${pages + 1} header is truncated`);
    let bodySize = 0;
    for (let i = 0; i < segments; i++) bodySize += header[27 + i] as number;
    const pageSize = 27 + segments + bodySize;
    if (offset + pageSize > source.size) fail(`page ${pages + 1} at offset ${offset} is cut short (truncated)`);
    const page = new Uint8Array(await source.read(offset, pageSize));
    const stored = u32le(page, 22);
    page.fill(0, 22, 26);
    if (crc32Ogg(page) !== stored) fail(`page ${pages + 1} at offset ${offset} fails its checksum (corrupted)`);
    const body = page.subarray(27 + segments);
    if (pages === 0) {
      if (ascii(body, 0, 7) === '\x01vorbis') {
        codec = 'vorbis';
        channels = body[11] as number;
        sampleRate = u32le(body, 12);
      } else if (ascii(body, 0, 8) === 'OpusHead') {
        codec = 'opus';
        channels = body[9] as number;
        preSkip = u16le(body, 10);
        sampleRate = 48000;
      } else {
        fail('first Ogg packet is neither Vorbis nor Opus');
      }
    }
    const granule = u32le(page, 6) + u32le(page, 10) * 2 ** 32;
    if (granule !== 2 ** 64 - 1 && granule > 0) lastGranule = granule;
    if (((page[5] as number) & 0x04) !== 0) ended = true;
    pages += 1;
    offset += pageSize;
  }
  if (!ended) fail(`the last of ${pages} pages is not marked end-of-stream (truncated)`);
  if (!sampleRate) fail('stream header has a zero sample rate');
  const durationSeconds = Math.max(0, lastGranule - preSkip) / sampleRate;
  if (durationSeconds <= 0) fail('the stream holds no audio samples');
  return { codec, sampleRate, channels, durationSeconds, bitrate: Math.round((source.size * 8) / durationSeconds) };
}
