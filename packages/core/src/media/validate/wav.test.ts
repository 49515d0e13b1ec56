/** WAV format chunks whose numbers contradict each other are refused; codecs with their own block rules are not judged by PCM's. */
import { expect, test } from 'bun:test';
import { FileProcessingError } from '../../errors.ts';
import { bytes, u16le, u32le } from '../bombs/bytes.ts';
import { validateFileIntegrity } from './validate.ts';

function wav(fmt: { code?: number; channels: number; rate: number; byteRate: number; align: number; bits: number }) {
  const format = bytes(
    'fmt ',
    u32le(16),
    u16le(fmt.code ?? 1, fmt.channels),
    u32le(fmt.rate, fmt.byteRate),
    u16le(fmt.align, fmt.bits),
  );
  const body = bytes('WAVE', format, 'data', u32le(1000), new Uint8Array(1000));
  return bytes('RIFF', u32le(body.byteLength), body);
}

const refusal = (file: Uint8Array) =>
  validateFileIntegrity(file, 'audio/wav').then(
    () => undefined,
    (error: unknown) => error as Error,
  );

test('a consistent 16-bit stereo header is accepted, its duration from its byte rate', async () => {
  const info = await validateFileIntegrity(
    wav({ channels: 2, rate: 8000, byteRate: 32_000, align: 4, bits: 16 }),
    'audio/wav',
  );
  expect(info).toMatchObject({ channels: 2, sampleRate: 8000, bitsPerSample: 16, durationSeconds: 1000 / 32_000 });
});

test("an attacker's header of impossible numbers (65,535 channels of 65,535 bits at 4 GHz) is refused", async () => {
  const error = await refusal(
    wav({ channels: 65_535, rate: 0xffffffff, byteRate: 0xffffffff, align: 65_535, bits: 65_535 }),
  );
  expect(error).toBeInstanceOf(FileProcessingError);
  expect(error?.message).toContain('65535 bits per sample');
});

test('a block align that is not the frame, or a byte rate that is not rate × frame, is refused', async () => {
  const align = await refusal(wav({ channels: 2, rate: 8000, byteRate: 16_000, align: 2, bits: 16 }));
  expect(align?.message).toContain('block align 2 is not 2 channels × 2 bytes (4)');
  const rate = await refusal(wav({ channels: 2, rate: 8000, byteRate: 1, align: 4, bits: 16 }));
  expect(rate?.message).toContain('byte rate 1 is not 8000 Hz × 4 bytes a frame');
});

test('IMA ADPCM (its own block rules) is judged only for zeros', async () => {
  const adpcm = wav({ code: 0x11, channels: 1, rate: 8000, byteRate: 4055, align: 256, bits: 4 });
  expect(await validateFileIntegrity(adpcm, 'audio/wav')).toMatchObject({ codec: 'wav-0x11', channels: 1 });
  const zero = await refusal(wav({ code: 0x11, channels: 1, rate: 8000, byteRate: 4055, align: 0, bits: 4 }));
  expect(zero?.message).toContain('zero channels, rate, byte rate or block align');
});

test('a coded WAV (MP3, ADPCM, an unknown tag) declaring a byte rate under 100 is refused: its duration would be a lie', async () => {
  for (const code of [0x02, 0x55, 0x1234]) {
    const error = await refusal(wav({ code, channels: 1, rate: 8000, byteRate: 1, align: 256, bits: 4 }));
    expect(error?.message).toContain('byte rate 1 is under 100 bytes a second');
  }
});
