/** Frame-chain parser bombs for MP3, AAC (ADTS), FLAC and WAV: the smallest frames, endless headers, huge sizes. */
import { crc8 } from '../validate/crc.ts';
import { bytes, repeat, u16le, u32le } from './bytes.ts';

/** MPEG-2.5 layer III at 8 kbps, 11,025 Hz: the shortest MP3 frame (52 bytes). */
const MP3_FRAME = bytes([0xff, 0xe2, 0x10, 0xc0], new Uint8Array(48));
/** ADTS frames of exactly their 7-byte header. */
const ADTS_FRAME = [0xff, 0xf1, 0x50, 0x80, 0x00, 0xff, 0xfc];

function flacHeader(): Uint8Array {
  const header = [0xff, 0xf8, 0x19, 0x08, 0x00];
  return bytes(header, [crc8(Uint8Array.from(header))]);
}

function flac(metadata: Uint8Array, frames: Uint8Array): Uint8Array {
  const streamInfo = bytes(
    [0x00, 0x00, 0x00, 34],
    [0x00, 0xc0, 0x00, 0xc0],
    new Uint8Array(6),
    // 44,100 Hz, 1 channel, 16 bits, 2^36−1 samples
    [0x0a, 0xc4, 0x40, 0xff, 0xff, 0xff, 0xff, 0xff],
    new Uint8Array(16),
  );
  return bytes('fLaC', streamInfo, metadata, frames);
}

function wav(...chunks: Uint8Array[]): Uint8Array {
  const fmt = bytes('fmt ', u32le(16), u16le(1, 1), u32le(8000, 16000), u16le(2, 16));
  const body = bytes('WAVE', fmt, ...chunks);
  return bytes('RIFF', u32le(body.byteLength), body);
}

/** A FLAC whose single frame header is followed by `size` bytes of 0xFF: every byte a possible sync code. */
export function flacOfSyncBytes(size: number): Uint8Array {
  return flac(new Uint8Array([0x81, 0, 0, 0]), bytes(flacHeader(), new Uint8Array(size).fill(0xff)));
}

export function audioBombs(n: number): Record<string, { mime: string; bytes: Uint8Array }> {
  const padding = repeat([0x01, 0, 0, 0], n * 64);
  return {
    'MP3 of the shortest frames': { mime: 'audio/mpeg', bytes: repeat(MP3_FRAME, n * 16) },
    'MP3 with an ID3 tag past the end': {
      mime: 'audio/mpeg',
      bytes: bytes('ID3', [4, 0, 0, 0x7f, 0x7f, 0x7f, 0x7f], repeat(MP3_FRAME, 4)),
    },
    'MP3 followed by 64 KiB of zeros': {
      mime: 'audio/mpeg',
      bytes: bytes(repeat(MP3_FRAME, 2), new Uint8Array(65_536)),
    },
    'AAC of header-only frames': { mime: 'audio/aac', bytes: repeat(ADTS_FRAME, n * 128) },
    'FLAC of thousands of metadata blocks': {
      mime: 'audio/flac',
      bytes: flac(bytes(padding, [0x81, 0, 0, 0]), flacHeader()),
    },
    'FLAC frames of 0xFF bytes': { mime: 'audio/flac', bytes: flacOfSyncBytes(n * 512) },
    'FLAC of back-to-back frame headers': {
      mime: 'audio/flac',
      bytes: flac(new Uint8Array([0x81, 0, 0, 0]), repeat(flacHeader(), n * 64)),
    },
    'FLAC metadata block past the end': {
      mime: 'audio/flac',
      bytes: flac(new Uint8Array([0x81, 0xff, 0xff, 0xff]), flacHeader()),
    },
    'WAV of thousands of empty chunks': {
      mime: 'audio/wav',
      bytes: wav(repeat(bytes('junk', u32le(0)), n * 64), bytes('data', u32le(2), [0, 0])),
    },
    'WAV data chunk of 4 GiB': { mime: 'audio/wav', bytes: wav(bytes('data', u32le(2 ** 32 - 2))) },
    'WAV odd-sized chunks': {
      mime: 'audio/wav',
      bytes: wav(repeat(bytes('junk', u32le(1), [0, 0]), n * 32), bytes('data', u32le(0))),
    },
  };
}
