/** Ogg parser bombs: thousands of minimal pages, maximal pages, absurd granule positions, no end of stream. */
import { crc32Ogg } from '../validate/crc.ts';
import { bytes, type Part, u32le } from './bytes.ts';

/** One page with a correct checksum; `packets` larger than 255 bytes are laced over several segments. */
export function oggPage(body: Part, options: { sequence?: number; granule?: number; flags?: number } = {}): Uint8Array {
  const data = bytes(body);
  const lacing: number[] = [];
  for (let rest = data.byteLength; lacing.length < 255; rest -= 255) {
    lacing.push(Math.min(rest, 255));
    if (rest < 255) break;
  }
  const granule = options.granule ?? 0;
  const page = bytes(
    'OggS',
    [0, options.flags ?? 0],
    u32le(granule % 2 ** 32, Math.floor(granule / 2 ** 32)),
    u32le(1, options.sequence ?? 0, 0),
    [lacing.length],
    lacing,
    data,
  );
  page.set(u32le(crc32Ogg(page)), 22);
  return page;
}

const OPUS_HEAD = bytes('OpusHead', [1, 2], [0x38, 0x01], u32le(48000), [0, 0, 0]);

export function oggBombs(n: number): Record<string, Uint8Array> {
  const pages = (count: number, body: (i: number) => Part, last: (i: number) => number) =>
    Array.from({ length: count }, (_, i) =>
      oggPage(body(i), { sequence: i + 1, granule: i * 960, flags: i === count - 1 ? last(i) : 0 }),
    );
  return {
    'thousands of empty pages': bytes(
      oggPage(OPUS_HEAD, { flags: 2 }),
      ...pages(
        n * 16,
        () => [],
        () => 4,
      ),
    ),
    'maximal 64 KiB pages': bytes(
      oggPage(OPUS_HEAD, { flags: 2 }),
      ...pages(
        Math.ceil(n / 16),
        () => new Uint8Array(255 * 255 - 1),
        () => 4,
      ),
    ),
    'granule position 2^63': bytes(oggPage(OPUS_HEAD, { flags: 2 }), oggPage([1], { granule: 2 ** 63, flags: 4 })),
    'no end-of-stream page': bytes(
      oggPage(OPUS_HEAD, { flags: 2 }),
      ...pages(
        n * 16,
        () => [1],
        () => 0,
      ),
    ),
  };
}
