/** Plain text: the whole file is valid UTF-8 without NUL or binary control bytes. */
import { isUtf8 } from 'node:buffer';
import { checkUtf8Text, incompleteTail, scanTextBytes } from '../text.ts';
import type { FormatInfo } from './media-info.ts';
import { fail } from './problem.ts';
import type { ByteSource } from './source.ts';

const CHUNK = 1024 * 1024;

export async function validateText(source: ByteSource): Promise<FormatInfo> {
  if (source.size === 0) fail('the file is empty');
  let characters = 0;
  let lines = 0;
  let carried = new Uint8Array(0);
  for (let offset = 0; offset < source.size; offset += CHUNK) {
    const read = await source.read(offset, CHUNK);
    const chunk = carried.byteLength ? Buffer.concat([carried, read]) : read;
    const last = offset + CHUNK >= source.size;
    const tail = last ? 0 : incompleteTail(chunk);
    const whole = chunk.subarray(0, chunk.byteLength - tail);
    const at = (problem: string) =>
      problem.replace(/offset (\d+)/, (_, n) => `offset ${offset - carried.byteLength + Number(n)}`);
    if (!isUtf8(whole)) {
      const verdict = checkUtf8Text(chunk, { partial: !last });
      fail(at(verdict.ok ? 'invalid UTF-8' : verdict.problem));
    }
    const scan = scanTextBytes(whole);
    if (scan.problem) fail(at(scan.problem));
    characters += scan.characters;
    lines += scan.lines;
    carried = chunk.slice(chunk.byteLength - tail);
  }
  return { characters, lines: lines + 1 };
}
