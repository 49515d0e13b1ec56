import { expect, test } from 'bun:test';
import sharp from 'sharp';
import { IntegrityError } from '../../errors.ts';
import { progressiveJpeg } from '../bombs/progressive-jpeg.ts';
import { compressImage } from '../compress.ts';
import { checkJpegScans, MAX_JPEG_SCANS } from './jpeg-scans.ts';
import { FormatProblem } from './problem.ts';
import { validateFileIntegrity } from './validate.ts';

test('the issue 18 scan bomb (5000 scans of 7040 × 7040, 472 KB) is refused before any decode, in both steps', async () => {
  const bomb = progressiveJpeg(7040, 5000);
  expect(bomb.byteLength).toBe(471_940);
  for (const step of [() => validateFileIntegrity(bomb, 'image/jpeg'), () => compressImage(bomb)]) {
    const started = performance.now();
    const error = await step().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as Error).message).toContain(`more than ${MAX_JPEG_SCANS} scans`);
    // Decoding it took 263 s; refusing it is one pass over 472 KB (the bomb suite's 1 s floor).
    expect(performance.now() - started).toBeLessThan(1000);
  }
});

test('a JPEG at the scan cap decodes; one scan more is refused', async () => {
  const atCap = progressiveJpeg(1024, MAX_JPEG_SCANS - 1); // the DC scan is one more
  expect((await validateFileIntegrity(atCap, 'image/jpeg')).width).toBe(1024);
  await expect(validateFileIntegrity(progressiveJpeg(1024, MAX_JPEG_SCANS), 'image/jpeg')).rejects.toMatchObject({
    code: 'INTEGRITY_ERROR',
  });
});

test('scans of real encoders are counted through their entropy-coded data, and all are far under the cap', async () => {
  const photo = sharp({
    create: {
      width: 640,
      height: 480,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  });
  const cases = [
    {
      name: 'libjpeg progressive, colour',
      scans: 10,
      bytes: await photo.clone().jpeg({ progressive: true }).toBuffer(),
    },
    {
      name: 'libjpeg progressive, grey',
      scans: 6,
      bytes: await photo.clone().toColourspace('b-w').jpeg({ progressive: true }).toBuffer(),
    },
    { name: 'mozjpeg, optimised scans', scans: 8, bytes: await photo.clone().jpeg({ mozjpeg: true }).toBuffer() },
    { name: 'baseline', scans: 1, bytes: await photo.clone().jpeg().toBuffer() },
  ];
  for (const { name, scans, bytes } of cases) {
    const data = new Uint8Array(bytes);
    expect(() => checkJpegScans(data, scans), name).not.toThrow();
    expect(() => checkJpegScans(data, scans - 1), name).toThrow(FormatProblem);
  }
});
