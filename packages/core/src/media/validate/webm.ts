/** WebM (Matroska/EBML): every element inside its parent and the file, with Tracks and at least one Cluster. */
import { codecName, type FormatInfo, framesPerSecond, MAX_STREAMS, type StreamInfo } from './media-info.ts';
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
const DEFAULT_DURATION = 0x23e383;
const AUDIO = 0xe1;
const SAMPLING_FREQUENCY = 0xb5;
const CHANNELS = 0x9f;
const TIMECODE_SCALE = 0x2ad7b1;
const DURATION = 0x4489;

interface Element {
  id: number;
  start: number;
  data: number;
  /** undefined for elements of unknown size. */
  end: number | undefined;
}

/** Parses the element header at `at` in `h` (which starts at file offset `offset - at`). */
function parseElement(h: Uint8Array, at: number, offset: number): Element {
  const first = h[at] ?? 0;
  const idLength = first >= 0x80 ? 1 : first >= 0x40 ? 2 : first >= 0x20 ? 3 : first >= 0x10 ? 4 : 0;
  if (idLength === 0 || h.byteLength < at + idLength + 1) fail(`invalid element id at offset ${offset}`);
  let id = 0;
  for (let i = 0; i < idLength; i++) id = id * 256 + (h[at + i] as number);
  const lead = h[at + idLength] as number;
  let sizeLength = 1;
  while (sizeLength <= 8 && (lead & (0x80 >> (sizeLength - 1))) === 0) sizeLength++;
  if (sizeLength > 8 || h.byteLength < at + idLength + sizeLength) fail(`invalid element size at offset ${offset}`);
  let size = lead & (0xff >> sizeLength);
  let unknown = size === 0xff >> sizeLength;
  for (let i = 1; i < sizeLength; i++) {
    const byte = h[at + idLength + i] as number;
    size = size * 256 + byte;
    if (byte !== 0xff) unknown = false;
  }
  const data = offset + idLength + sizeLength;
  return { id, start: offset, data, end: unknown ? undefined : data + size };
}

async function readElement(source: ByteSource, offset: number): Promise<Element> {
  return parseElement(await source.read(offset, 12), 0, offset);
}

/** Numbers are at most 8 bytes: a longer one is a damaged or hostile size, not a number to add up. */
/** A float element (4 or 8 bytes); 0 for any other length. */
async function readFloat(source: ByteSource, element: Element): Promise<number> {
  const length = (element.end ?? element.data) - element.data;
  if (length !== 4 && length !== 8) return 0;
  const bytes = await source.read(element.data, length);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return bytes.byteLength === 8 ? view.getFloat64(0) : bytes.byteLength === 4 ? view.getFloat32(0) : 0;
}

async function readUint(source: ByteSource, element: Element): Promise<number> {
  const length = (element.end ?? element.data) - element.data;
  if (length > 8)
    fail(`number element 0x${element.id.toString(16)} at offset ${element.start} is ${length} bytes long`);
  const bytes = await source.read(element.data, length);
  return bytes.reduce((value, byte) => value * 256 + byte, 0);
}

/** CodecIDs are short ASCII names such as "V_VP9". */
const MAX_CODEC_ID = 64;

/** Header reads go through a window, so a run of tiny elements costs one read per window, not one per element. */
const WINDOW = 64 * 1024;

/**
 * Calls `visit` for each child of `parent`, in order, without keeping them: a million tiny elements cost time linear
 * in their bytes and no memory.
 */
async function eachChild(
  source: ByteSource,
  parent: Element,
  limit: number,
  visit: (element: Element) => void | Promise<void>,
): Promise<void> {
  const end = parent.end ?? limit;
  let offset = parent.data;
  let window: Uint8Array = new Uint8Array(0);
  let windowStart = 0;
  while (offset < end) {
    if (offset + 12 > windowStart + window.byteLength && windowStart + window.byteLength < source.size) {
      window = await source.read(offset, WINDOW);
      windowStart = offset;
    }
    const element = parseElement(window, offset - windowStart, offset);
    if (element.end !== undefined && element.end > end) {
      fail(
        `element 0x${element.id.toString(16)} at offset ${offset} runs ${element.end - end} bytes past its parent (truncated)`,
      );
    }
    await visit(element);
    if (element.end === undefined) break;
    offset = element.end;
  }
}

/** The first child of each wanted id. */
async function childrenById(source: ByteSource, parent: Element, limit: number): Promise<Map<number, Element>> {
  const found = new Map<number, Element>();
  await eachChild(source, parent, limit, (element) => {
    if (!found.has(element.id)) found.set(element.id, element);
  });
  return found;
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
  const segmentEnd = segment.end ?? source.size;
  let tracks: Element | undefined;
  let info: Element | undefined;
  let clusters = 0;
  await eachChild(source, segment, source.size, async (element) => {
    if (element.id === TRACKS) tracks ??= element;
    else if (element.id === INFO) info ??= element;
    else if (element.id === CLUSTER) {
      clusters += 1;
      await eachChild(source, element, segmentEnd, () => {});
    }
  });
  if (!tracks) fail('no Tracks element');
  if (clusters === 0) fail('no Cluster: the file holds no media data');

  const counts = { video: 0, audio: 0 };
  const codecs: string[] = [];
  const streams: StreamInfo[] = [];
  await eachChild(source, tracks, source.size, async (entry) => {
    if (entry.id !== TRACK_ENTRY) return;
    const fields = await childrenById(source, entry, source.size);
    const type = fields.get(TRACK_TYPE);
    const kind = type ? await readUint(source, type) : 0;
    if (kind === 1) counts.video += 1;
    if (kind === 2) counts.audio += 1;
    const codec = fields.get(CODEC_ID);
    let codecId = 'unknown';
    if (codec) {
      const length = (codec.end ?? codec.data) - codec.data;
      if (length > MAX_CODEC_ID) fail(`CodecID at offset ${codec.start} is ${length} bytes long (corrupted)`);
      codecId = new TextDecoder().decode(await source.read(codec.data, length));
      codecs.push(codecId);
    }
    if (kind !== 1 && kind !== 2) return;
    const stream: StreamInfo = { kind: kind === 1 ? 'video' : 'audio', codec: codecName(codecId) };
    const video = fields.get(VIDEO);
    if (video) {
      const dims = await childrenById(source, video, source.size);
      const w = dims.get(PIXEL_WIDTH);
      const h = dims.get(PIXEL_HEIGHT);
      if (w) stream.width = await readUint(source, w);
      if (h) stream.height = await readUint(source, h);
    }
    const frameDuration = fields.get(DEFAULT_DURATION);
    if (kind === 1 && frameDuration) {
      const frameRate = framesPerSecond(1e9, await readUint(source, frameDuration));
      if (frameRate) stream.frameRate = frameRate;
    }
    const audio = fields.get(AUDIO);
    if (audio) {
      const settings = await childrenById(source, audio, source.size);
      const rate = settings.get(SAMPLING_FREQUENCY);
      const channels = settings.get(CHANNELS);
      stream.sampleRate = rate ? Math.round(await readFloat(source, rate)) : 8000;
      stream.channels = channels ? await readUint(source, channels) : 1;
    }
    // The file sets how many tracks it declares; what is kept (and returned with every record) is bounded.
    if (streams.length < MAX_STREAMS) streams.push(stream);
  });
  const video = streams.find((stream) => stream.kind === 'video');
  const audio = streams.find((stream) => stream.kind === 'audio');
  const width = video?.width;
  const height = video?.height;
  if (counts.video + counts.audio === 0) fail('no audio or video track');

  let durationSeconds: number | undefined;
  if (info) {
    const fields = await childrenById(source, info, source.size);
    const scaleElement = fields.get(TIMECODE_SCALE);
    const scale = scaleElement ? await readUint(source, scaleElement) : 1_000_000;
    const duration = fields.get(DURATION);
    if (duration) durationSeconds = ((await readFloat(source, duration)) * scale) / 1e9;
  }
  return {
    codec: codecs.join('+'),
    tracks: counts,
    streams,
    ...(width ? { width, height } : {}),
    ...(video?.frameRate ? { frameRate: video.frameRate } : {}),
    ...(audio?.sampleRate ? { sampleRate: audio.sampleRate } : {}),
    ...(audio?.channels ? { channels: audio.channels } : {}),
    ...(durationSeconds ? { durationSeconds, bitrate: Math.round((source.size * 8) / durationSeconds) } : {}),
  };
}
