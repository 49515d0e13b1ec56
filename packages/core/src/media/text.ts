/** Plain-text recognition: valid UTF-8, no NUL bytes, no binary control characters. */
import { isUtf8 } from 'node:buffer';

const decoder = new TextDecoder('utf-8', { fatal: true });

export type TextVerdict = { ok: true } | { ok: false; problem: string };

/**
 * Checks that `bytes` is UTF-8 text. With `partial`, a multi-byte character cut at the end is allowed
 * (the bytes are only the start of a longer input).
 */
export function checkUtf8Text(bytes: Uint8Array, { partial = false } = {}): TextVerdict {
  let end = bytes.byteLength;
  if (partial) end -= incompleteTail(bytes);
  const view = bytes.subarray(0, end);
  // isUtf8 checks in native code without building a string (decoding is only for locating an error).
  if (!isUtf8(view)) {
    return { ok: false, problem: `invalid UTF-8 at or before byte ${firstInvalidOffset(view)}` };
  }
  const scan = scanTextBytes(view);
  if (scan.problem) return { ok: false, problem: scan.problem };
  return { ok: true };
}

/**
 * One pass over UTF-8 bytes already known to be valid: counts characters and line feeds and finds the first NUL or
 * binary control byte (C0 controls other than tab, LF, CR, form feed and ESC).
 */
export function scanTextBytes(bytes: Uint8Array): { characters: number; lines: number; problem?: string } {
  let characters = 0;
  let lines = 0;
  const length = bytes.byteLength;
  for (let i = 0; i < length; i++) {
    const byte = bytes[i] as number;
    if (byte < 0x20) {
      if (byte === 0x0a) lines++;
      else if (byte === 0) return { characters, lines, problem: `NUL byte at offset ${i}` };
      else if (byte !== 0x09 && byte !== 0x0d && byte !== 0x0c && byte !== 0x1b) {
        return { characters, lines, problem: `control byte 0x${byte.toString(16).padStart(2, '0')} at offset ${i}` };
      }
    }
    if ((byte & 0xc0) !== 0x80) characters++;
  }
  return { characters, lines };
}

/** Length of a trailing, unfinished UTF-8 sequence (0–3 bytes). */
export function incompleteTail(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, bytes.byteLength); back++) {
    const byte = bytes[bytes.byteLength - back] as number;
    if ((byte & 0xc0) === 0x80) continue;
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? back : 0;
  }
  return 0;
}

function firstInvalidOffset(bytes: Uint8Array): number {
  let low = 0;
  let high = bytes.byteLength;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    const prefix = bytes.subarray(0, mid);
    try {
      decoder.decode(prefix.subarray(0, mid - incompleteTail(prefix)));
      low = mid;
    } catch {
      high = mid - 1;
    }
  }
  return low;
}
