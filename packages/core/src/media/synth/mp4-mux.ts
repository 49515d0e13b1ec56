/**
 * A minimal MP4 muxer for one H.264 track: `ftyp`, a `moov` written before the media (fast start), an optional
 * `free` box that pads the file to an exact size, then `mdat`. Sample tables are computed up front from the sample
 * sizes, so the media itself can be streamed without ever holding the file.
 */

const MATRIX = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000];
/** ISO-639-2 "und", packed as three 5-bit letters. */
const LANGUAGE_UND = 0x55c4;
const TIMESCALE = 1000;

export interface TrackLayout {
  width: number;
  height: number;
  frameRate: number;
  /** The `avcC` box (decoder configuration), copied as is. */
  avcC: Uint8Array;
  sampleSizes: readonly number[];
  /** 1-based numbers of the samples that are IDR frames. */
  syncSamples: readonly number[];
}

function u32(...values: number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (const [i, value] of values.entries()) view.setUint32(i * 4, value >>> 0);
  return bytes;
}

function u16(...values: number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 2);
  const view = new DataView(bytes.buffer);
  for (const [i, value] of values.entries()) view.setUint16(i * 2, value);
  return bytes;
}

function ascii(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function box(type: string, ...parts: Uint8Array[]): Uint8Array {
  const size = 8 + parts.reduce((sum, part) => sum + part.byteLength, 0);
  const out = new Uint8Array(size);
  out.set(u32(size), 0);
  out.set(ascii(type), 4);
  let offset = 8;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

function fullBox(type: string, version: number, flags: number, ...parts: Uint8Array[]): Uint8Array {
  return box(type, u32(((version & 0xff) << 24) | (flags & 0xffffff)), ...parts);
}

/** Times are zero (1904-01-01): the output is a pure function of its input. */
function movieBoxes(track: TrackLayout, chunkOffsets: readonly number[]): Uint8Array {
  const count = track.sampleSizes.length;
  const delta = TIMESCALE / track.frameRate;
  const duration = count * delta;
  const avc1 = box(
    'avc1',
    new Uint8Array(6),
    u16(1, 0, 0),
    new Uint8Array(12),
    u16(track.width, track.height),
    u32(0x00480000, 0x00480000, 0),
    u16(1),
    new Uint8Array(32),
    u16(0x0018, 0xffff),
    track.avcC,
  );
  const stbl = box(
    'stbl',
    fullBox('stsd', 0, 0, u32(1), avc1),
    fullBox('stts', 0, 0, u32(1, count, delta)),
    fullBox('stss', 0, 0, u32(track.syncSamples.length, ...track.syncSamples)),
    fullBox('stsc', 0, 0, u32(1, 1, 1, 1)),
    fullBox('stsz', 0, 0, u32(0, count, ...track.sampleSizes)),
    fullBox('stco', 0, 0, u32(chunkOffsets.length, ...chunkOffsets)),
  );
  const minf = box(
    'minf',
    fullBox('vmhd', 0, 1, new Uint8Array(8)),
    box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1))),
    stbl,
  );
  const mdia = box(
    'mdia',
    fullBox('mdhd', 0, 0, u32(0, 0, TIMESCALE, duration), u16(LANGUAGE_UND, 0)),
    fullBox('hdlr', 0, 0, u32(0), ascii('vide'), new Uint8Array(12), ascii('VideoHandler\0')),
    minf,
  );
  const tkhd = fullBox(
    'tkhd',
    0,
    3,
    u32(0, 0, 1, 0, duration, 0, 0),
    u16(0, 0, 0, 0),
    u32(...MATRIX, track.width * 65536, track.height * 65536),
  );
  const mvhd = fullBox(
    'mvhd',
    0,
    0,
    u32(0, 0, TIMESCALE, duration, 0x00010000),
    u16(0x0100, 0),
    new Uint8Array(8),
    u32(...MATRIX),
    new Uint8Array(24),
    u32(2),
  );
  return box('moov', mvhd, box('trak', tkhd, mdia));
}

const FTYP = box('ftyp', ascii('isom'), u32(0x200), ascii('isomiso2avc1mp41'));
const MDAT_HEADER = 8;

/** MP4 with 32-bit chunk offsets and mdat size: the whole file stays under 4 GiB. */
export const MAX_MP4_BYTES = 0xffffffff;

/** Bytes everything but the samples takes: ftyp, moov (its sample tables grow per sample), mdat header. */
export function containerBytes(samples: number, syncSamples: number, avcCBytes: number): number {
  // moov, trak, tkhd, mdia, mdhd, hdlr, minf, vmhd, dinf, stbl, stsd with avc1 (86 + avcC).
  const fixed = 8 + 108 + 8 + 92 + 8 + 32 + 45 + 8 + 20 + 36 + 8 + (16 + 86 + avcCBytes);
  // stts, stss, stsc, stsz, stco.
  const tables = 24 + (16 + 4 * syncSamples) + 28 + (20 + 4 * samples) + (16 + 4 * samples);
  return FTYP.byteLength + fixed + tables + MDAT_HEADER;
}

/**
 * Everything before the first sample: ftyp, moov, `padding` bytes of `free` (0 or at least 8) and the mdat header.
 * One sample per chunk, laid out back to back in mdat.
 */
export function mp4Head(track: TrackLayout, padding: number): Uint8Array {
  if (padding !== 0 && padding < 8) throw new RangeError(`padding of ${padding} bytes cannot be a box`);
  const mediaBytes = track.sampleSizes.reduce((sum, size) => sum + size, 0);
  const headBytes = containerBytes(track.sampleSizes.length, track.syncSamples.length, track.avcC.byteLength);
  if (headBytes + padding + mediaBytes > MAX_MP4_BYTES)
    throw new RangeError('an MP4 of 4 GiB or more needs 64-bit boxes');
  const moovBytes = headBytes - FTYP.byteLength - MDAT_HEADER;
  const offsets: number[] = [];
  let offset = FTYP.byteLength + moovBytes + padding + MDAT_HEADER;
  for (const size of track.sampleSizes) {
    offsets.push(offset);
    offset += size;
  }
  const moov = movieBoxes(track, offsets);
  if (moov.byteLength !== moovBytes) throw new Error(`moov is ${moov.byteLength} bytes, planned ${moovBytes}`);
  const free = padding > 0 ? box('free', new Uint8Array(padding - 8)) : new Uint8Array(0);
  const mdatHeader = u32(MDAT_HEADER + mediaBytes);
  return Buffer.concat([FTYP, moov, free, mdatHeader, ascii('mdat')]);
}
