/** WebM/Matroska parser bombs: millions of tiny elements, unknown-size nesting, huge numbers and strings, many tracks. */
import { bytes, type Part, repeat, u32be } from './bytes.ts';

/** An EBML element with an 8-byte size field (or the reserved "unknown size" when `size` is null). */
export function element(id: number, body: Part, size?: number | null): Uint8Array {
  const data = bytes(body);
  const idBytes =
    id > 0xffffff ? u32be(id) : id > 0xffff ? u32be(id).subarray(1) : id > 0xff ? [id >> 8, id & 0xff] : [id];
  const length = size === null ? [0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff] : sizeField(size ?? data.byteLength);
  return bytes(idBytes, length, data);
}

function sizeField(size: number): number[] {
  const out = [0x01];
  for (let shift = 6; shift >= 0; shift--) out.push(Math.floor(size / 2 ** (8 * shift)) & 0xff);
  return out;
}

const HEADER = element(0x1a45dfa3, element(0x4282, 'webm'));
const trackEntry = (...fields: Part[]) => element(0xae, bytes(...fields));
const TRACK = trackEntry(
  element(0x83, [1]),
  element(0x86, 'V_VP8'),
  element(0xe0, bytes(element(0xb0, [64]), element(0xba, [48]))),
);
const CLUSTER = element(0x1f43b675, element(0xe7, [0]));

export function webm(...level1: Part[]): Uint8Array {
  const body = bytes(...level1);
  return bytes(HEADER, element(0x18538067, body));
}

export function webmBombs(n: number): Record<string, Uint8Array> {
  const tracks = (...entries: Part[]) => element(0x1654ae6b, bytes(...entries));
  return {
    'thousands of Void elements': webm(tracks(TRACK), repeat([0xec, 0x80], n * 64), CLUSTER),
    'thousands of Clusters': webm(tracks(TRACK), repeat(CLUSTER, n * 4)),
    'a Cluster of thousands of children': webm(tracks(TRACK), element(0x1f43b675, repeat([0xe7, 0x81, 0], n * 32))),
    'thousands of TrackEntries': webm(tracks(repeat(TRACK, n)), CLUSTER),
    'unknown-size elements nested deep': webm(
      tracks(TRACK),
      CLUSTER,
      Array.from({ length: n }).reduce<Uint8Array>((inner) => element(0x1f43b675, inner, null), new Uint8Array(0)),
    ),
    'a TrackType number of a megabyte': webm(
      tracks(trackEntry(element(0x83, new Uint8Array(n * 256).fill(0xff)))),
      CLUSTER,
    ),
    'a CodecID of a megabyte': webm(
      tracks(trackEntry(element(0x83, [1]), element(0x86, new Uint8Array(n * 256).fill(0x41)))),
      CLUSTER,
    ),
    'element sizes past the parent': webm(tracks(TRACK), element(0x1f43b675, new Uint8Array(16), 2 ** 40)),
    'Segment of unknown size holding every element': bytes(
      HEADER,
      element(0x18538067, bytes(tracks(TRACK), repeat(CLUSTER, n)), null),
    ),
  };
}
