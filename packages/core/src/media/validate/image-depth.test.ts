import { expect, test } from 'bun:test';
import sharp from 'sharp';
import { IntegrityError } from '../../errors.ts';
import { validateFileIntegrity } from './validate.ts';

// The third attacker's bomb: a 381 KB all-zero 16-bit RGBA PNG of 7000 × 7000 (under the 50 MP cap) took 165 MB to
// validate. Here at a small scale: with a cap of 1,000 pixels (4,000 bytes at 8-bit RGBA), 30 × 30 fits as 8-bit
// RGBA (3,600 bytes) and is refused from its header as 16-bit RGBA (7,200 bytes).
const square = (depth: 8 | 16) => {
  const image = sharp({ create: { width: 30, height: 30, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 1 } } });
  return (depth === 16 ? image.toColourspace('rgb16') : image).png().toBuffer();
};

test('an image whose decode needs more than 4 bytes a pixel at the cap is refused before decoding', async () => {
  const deep = new Uint8Array(await square(16));
  expect((await sharp(deep).metadata()).depth).toBe('ushort');
  const error = await validateFileIntegrity(deep, 'image/png', { maxPixels: 1000 }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(IntegrityError);
  expect((error as Error).message).toContain('bands of ushort');
  const shallow = new Uint8Array(await square(8));
  expect((await validateFileIntegrity(shallow, 'image/png', { maxPixels: 1000 })).width).toBe(30);
  // At the default cap both are ordinary images.
  expect((await validateFileIntegrity(deep, 'image/png')).width).toBe(30);
});
