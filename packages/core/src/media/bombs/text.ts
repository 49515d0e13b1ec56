/** Text bombs: one endless line, only 4-byte characters, a broken character or NUL at the very end. */
import { bytes, repeat } from './bytes.ts';

export function textBombs(n: number): Record<string, Uint8Array> {
  return {
    'one line of a megabyte': repeat('a', n * 1024),
    'only 4-byte characters': repeat('😀', n * 256),
    'a newline per byte': repeat('\n', n * 1024),
    'invalid UTF-8 at the very end': bytes(repeat('ü', n * 512), [0xc3]),
    'a NUL byte at the very end': bytes(repeat('x', n * 1024), [0]),
  };
}
