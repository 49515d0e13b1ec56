/** Byte builders for hand-made container files: big-endian and little-endian integers, ASCII, concatenation. */

export type Part = Uint8Array | readonly number[] | string;

const encoder = new TextEncoder();

/** Concatenates byte arrays, plain byte lists and ASCII strings. */
export function bytes(...parts: Part[]): Uint8Array {
  const arrays = parts.map((part) =>
    typeof part === 'string' ? encoder.encode(part) : part instanceof Uint8Array ? part : Uint8Array.from(part),
  );
  const out = new Uint8Array(arrays.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of arrays) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

export function u32be(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (const [i, value] of values.entries()) view.setUint32(i * 4, value >>> 0);
  return out;
}

export function u16be(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  for (const [i, value] of values.entries()) view.setUint16(i * 2, value);
  return out;
}

export function u64be(value: number): Uint8Array {
  return u32be(Math.floor(value / 2 ** 32), value % 2 ** 32);
}

export function u32le(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (const [i, value] of values.entries()) view.setUint32(i * 4, value >>> 0, true);
  return out;
}

export function u16le(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  for (const [i, value] of values.entries()) view.setUint16(i * 2, value, true);
  return out;
}

/** `count` copies of `part` back to back. */
export function repeat(part: Part, count: number): Uint8Array {
  const one = bytes(part);
  const out = new Uint8Array(one.byteLength * count);
  for (let i = 0; i < count; i++) out.set(one, i * one.byteLength);
  return out;
}
