/**
 * MP4, MOV and M4A (ISO base media): every box inside its parent and the file, a `moov` with at least one
 * track that has samples, and every sample the tables point at lying inside an `mdat`.
 */
import { codecName, type FormatInfo, framesPerSecond, MAX_STREAMS, type StreamInfo } from './media-info.ts';
import { audioSampleEntry } from './mp4-audio.ts';
import { pace } from './pace.ts';
import { fail } from './problem.ts';
import { ascii, type ByteSource, u32be, u64be, u64beExact } from './source.ts';

interface Box {
  type: string;
  start: number;
  /** Offset of the payload. */
  body: number;
  end: number;
}

const MAX_MOOV = 64 * 1024 * 1024;
const HEADER_WINDOW = 64 * 1024;

async function readBoxes(source: ByteSource, start: number, end: number): Promise<Box[]> {
  const boxes: Box[] = [];
  let offset = start;
  // Headers are read through a window: a run of tiny boxes costs one read per window, not one per box.
  let window: Uint8Array = new Uint8Array(0);
  let windowStart = 0;
  while (offset + 8 <= end) {
    if (offset + 16 > windowStart + window.byteLength) {
      window = await source.read(offset, HEADER_WINDOW);
      windowStart = offset;
    }
    const h = window.subarray(offset - windowStart, offset - windowStart + 16);
    let size = u32be(h, 0);
    const type = ascii(h, 4, 4);
    let body = offset + 8;
    if (size === 1) {
      size = u64be(h, 8);
      body += 8;
      if (!Number.isSafeInteger(size)) {
        fail(`box "${type}" at offset ${offset} declares ${u64beExact(h, 8)} bytes, more than any file holds`);
      }
    } else if (size === 0) {
      size = end - offset;
    }
    if (size < body - offset) fail(`box "${type}" at offset ${offset} has an impossible size ${size}`);
    if (offset + size > end)
      fail(`box "${type}" at offset ${offset} runs ${offset + size - end} bytes past its container (truncated)`);
    boxes.push({ type, start: offset, body, end: offset + size });
    offset += size;
  }
  if (offset !== end && end - offset >= 8) fail(`stray bytes at offset ${offset}`);
  return boxes;
}

/** Boxes inside an in-memory parent (used within moov). */
function children(moov: Uint8Array, base: number, box: Box, skip = 0): Box[] {
  const out: Box[] = [];
  let offset = box.body + skip;
  while (offset + 8 <= box.end) {
    const at = offset - base;
    let size = u32be(moov, at);
    const type = ascii(moov, at + 4, 4);
    let body = offset + 8;
    if (size === 1) {
      size = u64be(moov, at + 8);
      body += 8;
    } else if (size === 0) size = box.end - offset;
    if (size < 8 || offset + size > box.end)
      fail(`box "${type}" inside "${box.type}" runs past its container (corrupted)`);
    out.push({ type, start: offset, body, end: offset + size });
    offset += size;
  }
  return out;
}

const find = (boxes: Box[], type: string) => boxes.find((b) => b.type === type);

export async function validateIsobmff(source: ByteSource): Promise<FormatInfo> {
  const top = await readBoxes(source, 0, source.size);
  const moovBox = find(top, 'moov');
  if (!moovBox) fail('no "moov" box (the index is missing: truncated or still being written)');
  if (moovBox.end - moovBox.start > MAX_MOOV) fail('"moov" box is implausibly large');
  const mdats = top.filter((b) => b.type === 'mdat');
  const mediaBytes = mdats.reduce((sum, mdat) => sum + (mdat.end - mdat.body), 0);
  const fragmented = top.some((b) => b.type === 'moof');
  const moov = new Uint8Array(await source.read(moovBox.start, moovBox.end - moovBox.start));
  const base = moovBox.start;
  const at = (box: Box) => box.body - base;
  const inMoov = children(moov, base, moovBox);

  /** Seconds from an `mvhd` or `mdhd` box (same layout for both up to the duration). */
  const secondsOf = (box: Box | undefined): number | undefined => {
    const v = box ? moov[at(box)] : undefined;
    if (!box || box.end - box.body < (v === 1 ? 32 : 20)) return undefined;
    const timescale = u32be(moov, at(box) + (v === 1 ? 20 : 12));
    const duration = v === 1 ? u64be(moov, at(box) + 24) : u32be(moov, at(box) + 16);
    return timescale > 0 ? duration / timescale : undefined;
  };
  const durationSeconds = secondsOf(find(inMoov, 'mvhd'));

  const codecs: string[] = [];
  const streams: StreamInfo[] = [];
  const tracks = { video: 0, audio: 0 };
  let width: number | undefined;
  let height: number | undefined;
  let samplesTotal = 0;
  let sampleBytes = 0;
  for (const trak of inMoov.filter((b) => b.type === 'trak')) {
    const inTrak = children(moov, base, trak);
    const mdia = find(inTrak, 'mdia');
    if (!mdia) fail('a track has no "mdia" box');
    const inMdia = children(moov, base, mdia);
    const handler = find(inMdia, 'hdlr');
    const kind = handler ? ascii(moov, at(handler) + 8, 4) : '';
    const stbl = find(children(moov, base, find(inMdia, 'minf') ?? fail('a track has no "minf" box')), 'stbl');
    if (!stbl) fail('a track has no sample table ("stbl")');
    const inStbl = children(moov, base, stbl);
    const stsd = find(inStbl, 'stsd');
    const codec = stsd && stsd.end - stsd.body >= 16 ? ascii(moov, at(stsd) + 12, 4) : 'unknown';
    // The first sample entry starts 8 bytes into stsd; its fixed fields say dimensions or channels and rate.
    const entry = stsd ? at(stsd) + 8 : 0;
    const stream: StreamInfo = { kind: kind === 'vide' ? 'video' : 'audio', codec: codecName(codec.trim()) };
    if (kind === 'vide') {
      tracks.video += 1;
      if (stsd && stsd.end - stsd.body >= 8 + 36) {
        stream.width = (moov[entry + 32] as number) * 256 + (moov[entry + 33] as number);
        stream.height = (moov[entry + 34] as number) * 256 + (moov[entry + 35] as number);
        width ??= stream.width;
        height ??= stream.height;
      }
      const rotation = displayRotation(moov, base, find(inTrak, 'tkhd'));
      if (rotation) stream.rotation = rotation;
    } else if (kind === 'soun') {
      tracks.audio += 1;
      if (stsd) Object.assign(stream, audioSampleEntry(moov, entry, stsd.end - base));
    } else continue;
    codecs.push(codec.trim());
    if (!fragmented) {
      const span = await checkSampleTable(moov, base, inStbl, mdats, mediaBytes, codec);
      samplesTotal += span.samples;
      sampleBytes += span.bytes;
      const seconds = secondsOf(find(inMdia, 'mdhd'));
      if (kind === 'vide' && seconds) {
        const frameRate = framesPerSecond(span.samples, seconds);
        if (frameRate) stream.frameRate = frameRate;
      }
    }
    // The file sets how many tracks it declares; what is kept (and returned with every record) is bounded.
    if (streams.length < MAX_STREAMS) streams.push(stream);
    await pace();
  }
  // Tracks sharing the same bytes would let a small mdat stand for any number of samples.
  if (sampleBytes > mediaBytes)
    fail(`the tracks' samples need ${sampleBytes} bytes but the media data holds only ${mediaBytes} (corrupted)`);
  if (tracks.video + tracks.audio === 0) fail('no audio or video track');
  if (!fragmented && samplesTotal === 0) fail('the tracks hold no samples');
  if (durationSeconds !== undefined && !fragmented && durationSeconds <= 0) fail('the movie has zero duration');
  const video = streams.find((stream) => stream.kind === 'video');
  const audio = streams.find((stream) => stream.kind === 'audio');
  return {
    codec: codecs.join('+'),
    tracks,
    streams,
    ...(width ? { width, height } : {}),
    ...(video?.frameRate ? { frameRate: video.frameRate } : {}),
    ...(video?.rotation ? { rotation: video.rotation } : {}),
    ...(audio?.sampleRate ? { sampleRate: audio.sampleRate } : {}),
    ...(audio?.channels ? { channels: audio.channels } : {}),
    ...(durationSeconds ? { durationSeconds, bitrate: Math.round((source.size * 8) / durationSeconds) } : {}),
  };
}

/**
 * The rotation a track's display matrix (`tkhd`) asks for, in degrees as ffprobe reports it (its
 * `av_display_rotation_get`), or 0. Phones record portrait video as landscape frames with this set.
 */
function displayRotation(moov: Uint8Array, base: number, tkhd: Box | undefined): number {
  if (!tkhd) return 0;
  const version = moov[tkhd.body - base];
  const matrix = tkhd.body - base + (version === 1 ? 52 : 40);
  if (matrix + 16 > tkhd.end - base) return 0;
  const at = (i: number) => u32be(moov, matrix + 4 * i) | 0;
  const [a, b, c, d] = [at(0), at(1), at(3), at(4)];
  const degrees = -Math.atan2(b / Math.hypot(b, d), a / Math.hypot(a, c)) * (180 / Math.PI);
  const rounded = Math.round(degrees) || 0;
  return Number.isFinite(rounded) ? rounded : 0;
}

/** What one track's sample table maps: its sample count and the bytes those samples take up. */
interface SampleSpan {
  samples: number;
  bytes: number;
}

/** The mdat whose payload holds `offset`, found by binary search: top-level boxes come in file order. */
function mdatAt(mdats: readonly Box[], offset: number): Box | undefined {
  let low = 0;
  let high = mdats.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const mdat = mdats[middle] as Box;
    if (offset < mdat.body) high = middle - 1;
    else if (offset >= mdat.end) low = middle + 1;
    else return mdat;
  }
  return undefined;
}

/**
 * Every chunk's samples must lie inside one mdat. Work is bounded by the bytes of the tables and the file, never by
 * the counts they declare: a uniform sample size is multiplied out per chunk, entry counts must fit their boxes,
 * `stsc` runs must move forward, and the samples may not need more bytes than the mdats hold.
 */
async function checkSampleTable(
  moov: Uint8Array,
  base: number,
  stbl: Box[],
  mdats: readonly Box[],
  mediaBytes: number,
  codec: string,
): Promise<SampleSpan> {
  const stszBox = find(stbl, 'stsz');
  const stscBox = find(stbl, 'stsc');
  const chunkBox = find(stbl, 'stco') ?? find(stbl, 'co64');
  if (!stszBox || !stscBox || !chunkBox) fail(`track "${codec}" lacks stsz/stsc/stco`);
  /** Offset in `moov` of a table's first field after version/flags, once its fixed fields are known to fit. */
  const table = (box: Box, fixed: number) => {
    if (box.end - box.body < 4 + fixed) fail(`"${box.type}" box of track "${codec}" is too short (corrupted)`);
    return box.body - base + 4;
  };
  const entriesFit = (box: Box, fixed: number, count: number, width: number) => {
    const room = Math.floor((box.end - box.body - 4 - fixed) / width);
    if (count > room)
      fail(`"${box.type}" of track "${codec}" declares ${count} entries but its box holds ${room} (corrupted)`);
  };
  const stsz = table(stszBox, 8);
  const stsc = table(stscBox, 4);
  const chunkTable = table(chunkBox, 4);
  const wide = chunkBox.type === 'co64';
  const uniformSize = u32be(moov, stsz);
  const sampleCount = u32be(moov, stsz + 4);
  if (uniformSize === 0) entriesFit(stszBox, 8, sampleCount, 4);
  else if (uniformSize * sampleCount > mediaBytes) {
    fail(
      `track "${codec}" declares ${sampleCount} samples of ${uniformSize} bytes but the media data holds only ${mediaBytes} bytes (corrupted)`,
    );
  }
  const chunkCount = u32be(moov, chunkTable);
  entriesFit(chunkBox, 4, chunkCount, wide ? 8 : 4);
  const entries = u32be(moov, stsc);
  entriesFit(stscBox, 4, entries, 12);
  const firstChunkOf = (e: number) => u32be(moov, stsc + 4 + 12 * e);
  let sample = 0;
  let bytesTotal = 0;
  for (let e = 0; e < entries; e++) {
    const firstChunk = firstChunkOf(e);
    const lastChunk = e + 1 < entries ? firstChunkOf(e + 1) - 1 : chunkCount;
    // Runs that went backwards would revisit chunks: quadratic work from a linear table.
    if (firstChunk < 1 || firstChunk > chunkCount || lastChunk < firstChunk - 1 || lastChunk > chunkCount) {
      fail(
        `track "${codec}" sample-to-chunk entry ${e + 1} names chunks ${firstChunk}–${lastChunk} of ${chunkCount} (corrupted)`,
      );
    }
    const perChunk = u32be(moov, stsc + 8 + 12 * e);
    for (let chunk = firstChunk - 1; chunk < lastChunk; chunk++) {
      const offset = wide ? u64be(moov, chunkTable + 4 + 8 * chunk) : u32be(moov, chunkTable + 4 + 4 * chunk);
      const count = Math.min(perChunk, sampleCount - sample);
      let bytes = count * uniformSize;
      if (uniformSize === 0) for (let s = 0; s < count; s++) bytes += u32be(moov, stsz + 8 + 4 * (sample + s));
      sample += count;
      bytesTotal += bytes;
      const mdat = mdatAt(mdats, offset);
      if (!mdat || offset + bytes > mdat.end) {
        fail(
          `track "${codec}" chunk ${chunk + 1} (offset ${offset}, ${bytes} bytes) lies outside the media data (truncated)`,
        );
      }
      if (chunk % 4096 === 0) await pace();
    }
  }
  if (sample !== sampleCount) fail(`track "${codec}" maps ${sample} of ${sampleCount} samples to chunks (corrupted)`);
  return { samples: sampleCount, bytes: bytesTotal };
}
