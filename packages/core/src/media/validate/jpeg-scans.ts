/**
 * Progressive JPEG scan budget from the marker structure. libjpeg decodes every scan over every block of the image,
 * so a small file that repeats one cheap scan thousands of times costs minutes (5000 scans of 75 bytes over
 * 7040 × 7040 took 263 s); counting SOS markers here refuses it in one pass over the bytes, before any decode.
 */
import { fail } from './problem.ts';
import { u16be } from './source.ts';

/**
 * Scans one JPEG may have. Real encoders emit few: libjpeg's default progression has 10 for colour and 6 for grey,
 * mozjpeg's optimised scripts stay under ~20, a baseline file has one per component group. 64 leaves room for unusual
 * encoders and bounds a 50 MP scan bomb near 64 × ~50 ms of decoding.
 */
export const MAX_JPEG_SCANS = 64;

const SOS = 0xda;
const EOI = 0xd9;
const isStandalone = (marker: number) => marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8);

/** Refuses a JPEG with more than `maxScans` scans; ignores other bytes and stops at damage the decoder will name. */
export function checkJpegScans(bytes: Uint8Array, maxScans = MAX_JPEG_SCANS): void {
  if (bytes.byteLength < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return;
  let p = 2;
  let scans = 0;
  while (p + 1 < bytes.byteLength) {
    if (bytes[p] !== 0xff) return;
    const marker = bytes[p + 1] as number;
    if (marker === 0xff) {
      p += 1; // fill byte
      continue;
    }
    if (marker === EOI) return;
    if (isStandalone(marker)) {
      p += 2;
      continue;
    }
    if (p + 4 > bytes.byteLength) return;
    p += 2 + u16be(bytes, p + 2);
    if (marker !== SOS) continue;
    scans += 1;
    if (scans > maxScans) {
      fail(`JPEG has more than ${maxScans} scans (real encoders write about 10); each scan decodes the whole image`);
    }
    p = nextMarker(bytes, p);
  }
}

/** Skips entropy-coded data: the next 0xFF not followed by a stuffed 0x00 or a restart marker. */
function nextMarker(bytes: Uint8Array, from: number): number {
  let p = bytes.indexOf(0xff, from);
  while (p !== -1 && p + 1 < bytes.byteLength) {
    const next = bytes[p + 1] as number;
    if (next !== 0x00 && !(next >= 0xd0 && next <= 0xd7)) return p;
    p = bytes.indexOf(0xff, p + 2);
  }
  return bytes.byteLength;
}
