/** WebM (Matroska/EBML): every element inside its parent and the file, with Tracks and at least one Cluster. */
import type { FormatInfo } from './media-info.ts';
import { fail } from './problem.ts';
import type { ByteSource } from './source.ts';

const EBML = 0x1a45dfa3;
const SEGMENT = 0x18538067;
const INFO = 0x1549a966;
const TRACKS = 0x1654ae6b;
const CLUSTER = 0x1f43b675;
const TRACK_ENTRY = 0xae;
const TRACK_TYPE = 0x83;
const CODEC_ID = 0x86;
const VIDEO = 0xe0;
const PIXEL_WIDTH = 0xb0;
const PIXEL_HEIGHT = 0xba;
const TIMECODE_SCALE = 0x2ad7b1;
const DURATION = 0x4489;

interface Element {
  id: number;
  start: number;
  data: number;
  /** undefined for elements of unknown size. */
  end: number | undefined;
}

async function readElement(source: ByteSource, offset: number): Promise<Element> {
  const h = await source.read(offset, 12);
  const first = h[0] ?? 0;
  const idLength = first >= 0x80 ? 1 : first >= 0x40 ? 2 : first >= 0x20 ? 3 : first >= 0x10 ? 4 : 0;
  if (idLength === 0 || h.byteLength < idLength + 1) fail(`invalid element id at offset ${offset}`);
  let id = 0;
  for (let i = 0; i < idLength; i++) id = id * 256 + (h[i] as number);
  const lead = h[idLength] as number;
  let sizeLength = 1;
  while (sizeLength <= 8 && (lead & (0x80 >> (sizeLength - 1))) === 0) sizeLength++;
  if (sizeLength > 8 || h.byteLength < idLength + sizeLength) fail(`invalid element size at offset ${offset}`);
  let size = lead & (0xff >> sizeLength);
  let unknown = size === 0xff >> sizeLength;
  for (let i = 1; i < sizeLength; i++) {
    const byte = h[idLength + i] as number;
    size = size * 256 + byte;
    if (byte !== 0xff) unknown = false;
  }
  const data = offset + idLength + sizeLength;
  return { id, start: offset, data, end: unknown ? undefined : data + size };
}

async function readUint(source: ByteSource, element: Element): Promise<number> {
  const bytes = await source.read(element.data, (element.end ?? element.data) - element.data);
  return bytes.reduce((value, byte) => value * 256 + byte, 0);
}

async function childrenOf(source: ByteSource, parent: Element, limit: number): Promise<Element[]> {
  const end = parent.end ?? limit;
  const out: Element[] = [];
  let offset = parent.data;
  while (offset < end) {
    const element = await readElement(source, offset);
    if (element.end !== undefined && element.end > end) {
      fail(
        `element 0x${element.id.toString(16)} at offset ${offset} runs ${element.end - end} bytes past its parent (truncated)`,
      );
    }
    out.push(element);
    if (element.end === undefined) break;
    offset = element.end;
  }
  return out;
}

export async function validateWebm(source: ByteSource): Promise<FormatInfo> {
  const header = await readElement(source, 0);
  if (header.id !== EBML || header.end === undefined) fail('missing EBML header');
  const segment = await readElement(source, header.end);
  if (segment.id !== SEGMENT) fail('missing Segment');
  if (segment.end !== undefined && segment.end > source.size) {
    fail(
      `Segment declares ${segment.end - segment.data} bytes but the file ends ${segment.end - source.size} bytes early (truncated)`,
    );
  }
  const level1 = await childrenOf(source, segment, source.size);
  const tracks = level1.find((e) => e.id === TRACKS);
  if (!tracks) fail('no Tracks element');
  const clusters = level1.filter((e) => e.id === CLUSTER);
  if (clusters.length === 0) fail('no Cluster: the file holds no media data');
  for (const cluster of clusters) await childrenOf(source, cluster, segment.end ?? source.size);

  const counts = { video: 0, audio: 0 };
  const codecs: string[] = [];
  let width: number | undefined;
  let height: number | undefined;
  for (const entry of (await childrenOf(source, tracks, source.size)).filter((e) => e.id === TRACK_ENTRY)) {
    const fields = await childrenOf(source, entry, source.size);
    const type = fields.find((e) => e.id === TRACK_TYPE);
    const kind = type ? await readUint(source, type) : 0;
    if (kind === 1) counts.video += 1;
    if (kind === 2) counts.audio += 1;
    const codec = fields.find((e) => e.id === CODEC_ID);
    if (codec)
      codecs.push(new TextDecoder().decode(await source.read(codec.data, (codec.end ?? codec.data) - codec.data)));
    const video = fields.find((e) => e.id === VIDEO);
    if (video) {
      const dims = await childrenOf(source, video, source.size);
      const w = dims.find((e) => e.id === PIXEL_WIDTH);
      const h = dims.find((e) => e.id === PIXEL_HEIGHT);
      if (w) width = await readUint(source, w);
      if (h) height = await readUint(source, h);
    }
  }
  if (counts.video + counts.audio === 0) fail('no audio or video track');

  let durationSeconds: number | undefined;
  const info = level1.find((e) => e.id === INFO);
  if (info) {
    const fields = await childrenOf(source, info, source.size);
    const scaleElement = fields.find((e) => e.id === TIMECODE_SCALE);
    const scale = scaleElement ? await readUint(source, scaleElement) : 1_000_000;
    const duration = fields.find((e) => e.id === DURATION);
    if (duration && duration.end !== undefined) {
      const bytes = await source.read(duration.data, duration.end - duration.data);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const value = bytes.byteLength === 8 ? view.getFloat64(0) : bytes.byteLength === 4 ? view.getFloat32(0) : 0;
      durationSeconds = (value * scale) / 1e9;
    }
  }
  return {
    codec: codecs.join('+'),
    tracks: counts,
    ...(width ? { width, height } : {}),
    ...(durationSeconds ? { durationSeconds, bitrate: Math.round((source.size * 8) / durationSeconds) } : {}),
  };
}
