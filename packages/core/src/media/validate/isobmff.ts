/**
 * MP4, MOV and M4A (ISO base media): every box inside its parent and the file, a `moov` with at least one
 * track that has samples, and every sample the tables point at lying inside an `mdat`.
 */
import type { FormatInfo } from './media-info.ts';
import { fail } from './problem.ts';
import { ascii, type ByteSource, u32be, u64be } from './source.ts';

interface Box {
  type: string;
  start: number;
  /** Offset of the payload. */
  body: number;
  end: number;
}

const MAX_MOOV = 64 * 1024 * 1024;

async function readBoxes(source: ByteSource, start: number, end: number): Promise<Box[]> {
  const boxes: Box[] = [];
  let offset = start;
  while (offset + 8 <= end) {
    const h = await source.read(offset, 16);
    let size = u32be(h, 0);
    const type = ascii(h, 4, 4);
    let body = offset + 8;
    if (size === 1) {
      size = u64be(h, 8);
      body += 8;
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
  const fragmented = top.some((b) => b.type === 'moof');
  const moov = new Uint8Array(await source.read(moovBox.start, moovBox.end - moovBox.start));
  const base = moovBox.start;
  const at = (box: Box) => box.body - base;
  const inMoov = children(moov, base, moovBox);

  const mvhd = find(inMoov, 'mvhd');
  let durationSeconds: number | undefined;
  if (mvhd) {
    const v = moov[at(mvhd)];
    const timescale = u32be(moov, at(mvhd) + (v === 1 ? 20 : 12));
    const duration = v === 1 ? u64be(moov, at(mvhd) + 24) : u32be(moov, at(mvhd) + 16);
    if (timescale > 0) durationSeconds = duration / timescale;
  }

  const codecs: string[] = [];
  const tracks = { video: 0, audio: 0 };
  let width: number | undefined;
  let height: number | undefined;
  let samplesTotal = 0;
  for (const trak of inMoov.filter((b) => b.type === 'trak')) {
    const mdia = find(children(moov, base, trak), 'mdia');
    if (!mdia) fail('a track has no "mdia" box');
    const inMdia = children(moov, base, mdia);
    const handler = find(inMdia, 'hdlr');
    const kind = handler ? ascii(moov, at(handler) + 8, 4) : '';
    const stbl = find(children(moov, base, find(inMdia, 'minf') ?? fail('a track has no "minf" box')), 'stbl');
    if (!stbl) fail('a track has no sample table ("stbl")');
    const inStbl = children(moov, base, stbl);
    const stsd = find(inStbl, 'stsd');
    const codec = stsd && stsd.end - stsd.body >= 16 ? ascii(moov, at(stsd) + 12, 4) : 'unknown';
    if (kind === 'vide') {
      tracks.video += 1;
      if (stsd && stsd.end - stsd.body >= 8 + 36) {
        width = (moov[at(stsd) + 8 + 32] as number) * 256 + (moov[at(stsd) + 8 + 33] as number);
        height = (moov[at(stsd) + 8 + 34] as number) * 256 + (moov[at(stsd) + 8 + 35] as number);
      }
    } else if (kind === 'soun') tracks.audio += 1;
    else continue;
    codecs.push(codec.trim());
    if (!fragmented) samplesTotal += checkSampleTable(moov, base, inStbl, mdats, codec);
  }
  if (tracks.video + tracks.audio === 0) fail('no audio or video track');
  if (!fragmented && samplesTotal === 0) fail('the tracks hold no samples');
  if (durationSeconds !== undefined && !fragmented && durationSeconds <= 0) fail('the movie has zero duration');
  return {
    codec: codecs.join('+'),
    tracks,
    ...(width ? { width, height } : {}),
    ...(durationSeconds ? { durationSeconds, bitrate: Math.round((source.size * 8) / durationSeconds) } : {}),
  };
}

/** Every chunk's samples must lie inside one mdat. Returns the number of samples. */
function checkSampleTable(moov: Uint8Array, base: number, stbl: Box[], mdats: Box[], codec: string): number {
  const body = (type: string) => {
    const box = find(stbl, type);
    return box ? box.body - base + 4 : undefined; // skip version/flags
  };
  const stsz = body('stsz');
  const stsc = body('stsc');
  const chunkTable = body('stco') ?? body('co64');
  const wide = body('stco') === undefined;
  if (stsz === undefined || stsc === undefined || chunkTable === undefined)
    fail(`track "${codec}" lacks stsz/stsc/stco`);
  const uniformSize = u32be(moov, stsz);
  const sampleCount = u32be(moov, stsz + 4);
  const sampleSize = (i: number) => (uniformSize !== 0 ? uniformSize : u32be(moov, stsz + 8 + 4 * i));
  if (uniformSize === 0 && stsz + 8 + 4 * sampleCount > moov.byteLength)
    fail('sample size table runs past "moov" (corrupted)');
  const chunkCount = u32be(moov, chunkTable);
  const entries = u32be(moov, stsc);
  let sample = 0;
  for (let e = 0; e < entries; e++) {
    const firstChunk = u32be(moov, stsc + 4 + 12 * e) - 1;
    const perChunk = u32be(moov, stsc + 8 + 12 * e);
    const lastChunk = e + 1 < entries ? u32be(moov, stsc + 4 + 12 * (e + 1)) - 1 : chunkCount;
    for (let chunk = firstChunk; chunk < lastChunk; chunk++) {
      const offset = wide ? u64be(moov, chunkTable + 4 + 8 * chunk) : u32be(moov, chunkTable + 4 + 4 * chunk);
      let bytes = 0;
      for (let s = 0; s < perChunk && sample < sampleCount; s++, sample++) bytes += sampleSize(sample);
      if (!mdats.some((m) => offset >= m.body && offset + bytes <= m.end)) {
        fail(
          `track "${codec}" chunk ${chunk + 1} (offset ${offset}, ${bytes} bytes) lies outside the media data (truncated)`,
        );
      }
    }
  }
  if (sample !== sampleCount) fail(`track "${codec}" maps ${sample} of ${sampleCount} samples to chunks (corrupted)`);
  return sampleCount;
}
