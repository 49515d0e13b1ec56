/** Plain text: the whole file is valid UTF-8 without NUL or binary control bytes. */
import { checkUtf8Text, incompleteTail } from '../text.ts';
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
    const verdict = checkUtf8Text(chunk, { partial: !last });
    if (!verdict.ok)
      fail(verdict.problem.replace(/offset (\d+)/, (_, n) => `offset ${offset - carried.byteLength + Number(n)}`));
    const tail = last ? 0 : incompleteTail(chunk);
    const whole = chunk.subarray(0, chunk.byteLength - tail);
    for (const byte of whole) {
      if ((byte & 0xc0) !== 0x80) characters++;
      if (byte === 0x0a) lines++;
    }
    carried = chunk.slice(chunk.byteLength - tail);
  }
  return { characters, lines: lines + 1 };
}
