/**
 * A valid grayscale progressive JPEG that repeats one cheap AC scan `scans` times (issue 18 F1): each repeat is 75
 * bytes at 7040 × 7040, yet libjpeg decodes every scan over all 774,400 blocks (5000 scans: 472 KB, 263 s to upload).
 * One Huffman symbol per table: DC difference 0 (code `0`), AC EOBRUN of 14 extra bits (code `0`), so a scan is a
 * handful of end-of-band runs covering the whole image.
 */
import { bytes, repeat, u16be } from './bytes.ts';

const segment = (marker: number, payload: Uint8Array) => bytes([0xff, marker], u16be(payload.byteLength + 2), payload);

/** Packs bits MSB first, pads with ones and stuffs a 0x00 after every 0xFF, as entropy-coded data needs. */
function entropyCoded(write: (put: (value: number, width: number) => void) => void): Uint8Array {
  const out: number[] = [];
  let byte = 0;
  let filled = 0;
  const bit = (b: number) => {
    byte = (byte << 1) | b;
    filled += 1;
    if (filled === 8) {
      out.push(byte);
      if (byte === 0xff) out.push(0);
      byte = 0;
      filled = 0;
    }
  };
  write((value, width) => {
    for (let i = width - 1; i >= 0; i--) bit((value >> i) & 1);
  });
  while (filled !== 0) bit(1);
  return Uint8Array.from(out);
}

/** `side` × `side` pixels (a multiple of 8 whose block count leaves EOB runs of at least 16384, e.g. 7040). */
export function progressiveJpeg(side: number, scans: number): Uint8Array {
  const blocks = Math.ceil(side / 8) ** 2;
  const dc = entropyCoded((put) => {
    for (let i = 0; i < blocks; i++) put(0, 1);
  });
  const ac = entropyCoded((put) => {
    for (let left = blocks; left > 0; ) {
      const run = Math.min(left, 32767);
      if (run < 16384) throw new RangeError(`side ${side} leaves an end-of-band run under 16384 blocks`);
      put(0, 1);
      put(run - 16384, 14);
      left -= run;
    }
  });
  const oneBitTable = (tableClass: number, symbol: number) =>
    segment(0xc4, bytes([tableClass], [1], new Uint8Array(15), [symbol]));
  const acScan = bytes(segment(0xda, Uint8Array.from([1, 1, 0x00, 1, 63, 0])), ac);
  return bytes(
    [0xff, 0xd8],
    segment(0xdb, bytes([0], new Uint8Array(64).fill(1))),
    segment(0xc2, bytes([8], u16be(side, side), [1, 1, 0x11, 0])),
    oneBitTable(0x00, 0x00),
    oneBitTable(0x10, 0xe0),
    segment(0xda, Uint8Array.from([1, 1, 0x00, 0, 0, 0])),
    dc,
    repeat(acScan, scans),
    [0xff, 0xd9],
  );
}
