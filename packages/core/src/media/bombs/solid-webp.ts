/**
 * The pixel bomb of issue 18: a solid-colour lossless WebP of a few dozen bytes whose header declares any size.
 * sharp encodes a 16 × 16 solid image; a VP8L bitstream of one colour does not depend on the size, so only the
 * header's width and height are rewritten. sharp is imported on use so the other generators stay dependency-free.
 */
export async function solidWebp(width: number, height: number): Promise<Uint8Array> {
  const { default: sharp } = await import('sharp');
  const small = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#3366aa' } })
    .webp({ lossless: true })
    .toBuffer();
  const bytes = new Uint8Array(small);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bits = view.getUint32(21, true);
  view.setUint32(21, (bits & 0xf0000000) | ((height - 1) << 14) | (width - 1), true);
  return bytes;
}
