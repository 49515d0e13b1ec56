/** MP4 box sizes past 2^53: said exactly, not as a rounded Number (an attacker saw "18446744073709552000 bytes"). */
import { expect, test } from 'bun:test';
import { FileProcessingError } from '../../errors.ts';
import { bytes, u32be } from '../bombs/bytes.ts';
import { validateFileIntegrity } from './validate.ts';

test('a 64-bit box size of 2^64 − 1 is refused, its size said in exact digits', async () => {
  const ftyp = bytes(u32be(16), 'ftyp', 'isom', u32be(0));
  const mdat = bytes(u32be(1), 'mdat', u32be(0xffffffff, 0xffffffff), new Uint8Array(64));
  const error = await validateFileIntegrity(bytes(ftyp, mdat), 'video/mp4').then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(error).toBeInstanceOf(FileProcessingError);
  expect(error?.message).toContain('declares 18446744073709551615 bytes');
});
