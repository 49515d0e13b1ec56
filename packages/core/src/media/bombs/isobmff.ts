/**
 * MP4 parser bombs: sample tables that describe far more samples than the file holds, chunk offsets pointing
 * backwards or outside the file, `stsc` runs that revisit chunks, thousands of tracks or `mdat`s, huge box sizes.
 */
import { bytes, type Part, repeat, u32be, u64be } from './bytes.ts';

export function box(type: string, ...payload: Part[]): Uint8Array {
  const body = bytes(...payload);
  return bytes(u32be(8 + body.byteLength), type, body);
}

const fullBox = (type: string, ...payload: Part[]) => box(type, u32be(0), ...payload);

export interface TrackSpec {
  /** `stsz` uniform sample size (0: per-sample table from `sampleSizes`). */
  sampleSize: number;
  sampleCount: number;
  sampleSizes?: readonly number[];
  /** `stsc` entries: [first chunk (1-based), samples per chunk]. */
  runs: readonly (readonly [number, number])[];
  /** Chunk offsets; `undefined` entries are filled with the offset of the first `mdat` payload. */
  chunks: readonly (number | undefined)[];
  /** Declared entry counts that differ from the real ones. */
  declaredRuns?: number;
  declaredChunks?: number;
  declaredSampleTable?: number;
  wide?: boolean;
}

function track(spec: TrackSpec, mdatBody: number): Uint8Array {
  const chunkOffsets = spec.chunks.map((offset) => offset ?? mdatBody);
  const stsd = fullBox('stsd', u32be(1), box('avc1', new Uint8Array(24), [0, 64, 0, 48], new Uint8Array(50)));
  const stsz = fullBox(
    'stsz',
    u32be(spec.sampleSize, spec.sampleCount),
    spec.sampleSize === 0 ? u32be(...(spec.sampleSizes ?? [])) : [],
  );
  const stsc = fullBox(
    'stsc',
    u32be(spec.declaredRuns ?? spec.runs.length),
    u32be(...spec.runs.flatMap(([c, n]) => [c, n, 1])),
  );
  const stco = spec.wide
    ? fullBox('co64', u32be(spec.declaredChunks ?? chunkOffsets.length), ...chunkOffsets.map(u64be))
    : fullBox('stco', u32be(spec.declaredChunks ?? chunkOffsets.length), u32be(...chunkOffsets));
  const hdlr = fullBox('hdlr', u32be(0), 'vide', new Uint8Array(13));
  return box('trak', box('mdia', hdlr, box('minf', box('stbl', stsd, fullBox('stts', u32be(0)), stsc, stsz, stco))));
}

/**
 * ftyp + moov (mvhd, the tracks, `extra` boxes) + `mdats`; chunk offsets left `undefined` point at the first mdat's
 * payload, whose position is computed so the file is consistent.
 */
export function mp4(tracks: readonly TrackSpec[], mdats: readonly number[] = [1024], extra: Part[] = []): Uint8Array {
  const ftyp = box('ftyp', 'isom', u32be(512), 'isomiso2avc1mp41');
  const mvhd = fullBox('mvhd', u32be(0, 0, 1000, 1000), new Uint8Array(80));
  const build = (mdatBody: number) => box('moov', mvhd, ...tracks.map((t) => track(t, mdatBody)), ...extra);
  const moovSize = build(0).byteLength;
  const mdatBody = ftyp.byteLength + moovSize + 8;
  return bytes(ftyp, build(mdatBody), ...mdats.map((size) => box('mdat', new Uint8Array(size))));
}

/**
 * The file of issue 18: a track that declares 2³²−1 samples of 1 byte in chunks of 700,000, every chunk at the start
 * of a 700,000-byte `mdat`. The old validator walked every declared sample (~5 s a track) and then accepted it.
 */
export function issue18Mp4(tracks = 1, chunks = 6136): Uint8Array {
  const spec: TrackSpec = {
    sampleSize: 1,
    sampleCount: 2 ** 32 - 1,
    runs: [[1, 700_000]],
    chunks: new Array(chunks).fill(undefined),
  };
  return mp4(new Array(tracks).fill(spec), [700_000]);
}

/** Every MP4 bomb shape, sized by `n` (roughly the number of repeated structures). */
export function isobmffBombs(n: number, pick: <T>(values: readonly T[]) => T): Record<string, Uint8Array> {
  const huge = pick([2 ** 32 - 1, 2 ** 31, 700_000 * n, 10 ** 9]);
  const each = new Array(n).fill(undefined);
  return {
    'issue-18 (one track)': issue18Mp4(1, n),
    'uniform samples past the mdat, 10 tracks': mp4(
      new Array(10).fill({ sampleSize: pick([1, 2, 1000]), sampleCount: huge, runs: [[1, huge]], chunks: [undefined] }),
    ),
    'sample table count larger than its box': mp4([
      { sampleSize: 0, sampleCount: huge, sampleSizes: [1, 1], runs: [[1, 1]], chunks: [undefined] },
    ]),
    'stsc runs revisiting the same chunks': mp4([
      {
        sampleSize: 1,
        sampleCount: n,
        runs: Array.from({ length: n }, (_, i) => [i % 2 === 0 ? 1 : n, 1] as const),
        chunks: each,
      },
    ]),
    'stsc/stco counts past their boxes': mp4([
      { sampleSize: 1, sampleCount: 1, runs: [[1, 1]], chunks: [undefined], declaredRuns: huge, declaredChunks: huge },
    ]),
    'chunks pointing backwards into moov': mp4([
      { sampleSize: 4, sampleCount: n, runs: [[1, 1]], chunks: Array.from({ length: n }, (_, i) => i * 4) },
    ]),
    'chunks past the end of the file': mp4([
      { sampleSize: 1, sampleCount: n, runs: [[1, 1]], chunks: Array.from({ length: n }, () => huge), wide: true },
    ]),
    'thousands of mdats and chunks': mp4(
      [{ sampleSize: 1, sampleCount: n, runs: [[1, 1]], chunks: each }],
      new Array(n).fill(0),
    ),
    'thousands of tracks': mp4(
      new Array(n).fill({ sampleSize: 1, sampleCount: 1, runs: [[1, 1]], chunks: [undefined] }),
    ),
    'deeply nested boxes': mp4(
      [{ sampleSize: 1, sampleCount: 1, runs: [[1, 1]], chunks: [undefined] }],
      [16],
      [Array.from({ length: n }).reduce<Uint8Array>((inner) => box('udta', inner), new Uint8Array(0))],
    ),
    'top-level boxes of 8 bytes': bytes(box('ftyp', 'isom'), repeat(box('free'), n * 16)),
    '64-bit box size of 2^53': bytes(box('ftyp', 'isom'), u32be(1), 'mdat', u64be(2 ** 53), new Uint8Array(64)),
  };
}
