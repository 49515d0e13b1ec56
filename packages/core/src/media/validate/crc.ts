/** Table-driven CRCs used by container formats (non-reflected, MSB first). */

/** CRC tables for widths up to 16 bits (the Ogg CRC-32 table is built separately with 32-bit integer math). */
function table(poly: number, width: number): Uint32Array {
  const top = 2 ** (width - 1);
  const mask = 2 ** width - 1;
  const out = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i * 2 ** (width - 8);
    for (let bit = 0; bit < 8; bit++) crc = crc >= top ? ((crc * 2) ^ poly) & mask : (crc * 2) & mask;
    out[i] = crc >>> 0;
  }
  return out;
}

const OGG = (() => {
  const out = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 24;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
    out[i] = crc >>> 0;
  }
  return out;
})();
const CRC8 = table(0x07, 8);
/** Exposed for hot loops that update the CRC-16 one byte at a time. */
export const CRC16 = table(0x8005, 16);

/** Ogg page checksum (CRC-32, polynomial 0x04C11DB7, initial 0). */
export function crc32Ogg(bytes: Uint8Array, crc = 0): number {
  let value = crc;
  for (let i = 0; i < bytes.byteLength; i++) {
    value = ((value << 8) ^ (OGG[((value >>> 24) ^ (bytes[i] as number)) & 0xff] as number)) >>> 0;
  }
  return value;
}

/** FLAC frame header checksum (CRC-8, polynomial 0x07). */
export function crc8(bytes: Uint8Array): number {
  let value = 0;
  for (let i = 0; i < bytes.byteLength; i++) value = CRC8[value ^ (bytes[i] as number)] as number;
  return value;
}

/** FLAC frame checksum (CRC-16, polynomial 0x8005); pass the previous value to continue over chunks. */
export function crc16(bytes: Uint8Array, crc = 0): number {
  let value = crc;
  for (let i = 0; i < bytes.byteLength; i++) {
    value = ((value << 8) ^ (CRC16[((value >> 8) ^ (bytes[i] as number)) & 0xff] as number)) & 0xffff;
  }
  return value;
}
