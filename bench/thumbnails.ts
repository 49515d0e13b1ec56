/**
 * Thumbnails: 256 px WebP thumbnails of photo-like JPEGs, one after another: mediaforge's makeThumbnail against
 * sharp called directly with the same settings (the ceiling) and ImageMagick's convert, one process per image; and
 * what an image upload already pays for recompression (compressImage), to put a thumbnail's cost in proportion.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressImage, makeThumbnail } from '@mediaforge/core';
import sharp from 'sharp';
import { photo } from './images.ts';
import { type Benchmark, fixed, median, sh, toolVersion } from './lib.ts';

const CONVERT = '/usr/bin/convert';

export const thumbnails: Benchmark = {
  name: 'thumbnails',
  title: 'Thumbnails: 256 px WebP from photo-like JPEGs',
  tools: ['/usr/bin/convert'],
  async run({ smoke }) {
    const dir = mkdtempSync(join(tmpdir(), 'mediaforge-bench-thumbs-'));
    const count = smoke ? 2 : 60;
    const reps = smoke ? 1 : 3;
    const [width, height] = smoke ? [160, 120] : [1024, 768];
    try {
      const inputs: { path: string; bytes: Uint8Array }[] = [];
      for (let i = 0; i < count; i++) {
        const bytes = await photo(i + 1, width, height, 'jpeg');
        const path = join(dir, `in-${i}.jpg`);
        await Bun.write(path, bytes);
        inputs.push({ path, bytes });
      }
      const tools: Record<string, (input: (typeof inputs)[number]) => Promise<unknown>> = {
        mediaforge: async (input) => {
          const made = await makeThumbnail({ mediaType: 'image', bytes: input.bytes });
          if (!made.ok) throw new Error(made.reason);
        },
        'sharp (direct)': (input) =>
          sharp(input.bytes)
            .rotate()
            .resize(256, 256, { fit: 'inside', withoutEnlargement: true })
            .webp({ quality: 70 })
            .toBuffer(),
        'ImageMagick convert': (input) =>
          sh([CONVERT, input.path, '-auto-orient', '-thumbnail', '256x256', '-quality', '70', join(dir, 'out.webp')]),
        'compressImage (every upload)': (input) => compressImage(input.bytes, { quality: 85 }),
      };
      for (const tool of Object.values(tools)) await tool(inputs[0] as (typeof inputs)[number]);
      const rates: Record<string, number[]> = {};
      for (let rep = 0; rep < reps; rep++) {
        for (const [name, tool] of Object.entries(tools)) {
          const started = performance.now();
          for (const input of inputs) await tool(input);
          rates[name] = [...(rates[name] ?? []), inputs.length / ((performance.now() - started) / 1000)];
        }
      }
      const ours = median(rates.mediaforge ?? []);
      const vsSharp = ours / median(rates['sharp (direct)'] ?? []);
      const compress = median(rates['compressImage (every upload)'] ?? []);
      return {
        results: { width, height, count, reps, rates },
        pass: vsSharp >= 0.9,
        table: [
          ['tool', 'images/s', 'mediaforge ÷ this'],
          ...Object.keys(tools).map((name) => {
            const rate = median(rates[name] ?? []);
            return [name, fixed(rate, 1), name === 'mediaforge' ? '1.00' : fixed(ours / rate, 2)];
          }),
        ],
        notes: [
          `Target: ≥ 0.9× sharp called directly (${fixed(vsSharp, 2)}×). ${count} JPEGs (quality 95) of ${width}×${height} photo-like scenes, one after another, median of ${reps} runs. A thumbnail adds about ${fixed((compress / ours) * 100, 0)}% to the time an image upload already spends recompressing (compressImage at quality 85); this is why the CLI quick path leaves thumbnails off by default.`,
          `Settings: \`makeThumbnail\` = sharp \`rotate().resize(256, 256, { fit: 'inside' }).webp({ quality: 70 })\` in the image-decode slots; ImageMagick: \`convert in -auto-orient -thumbnail 256x256 -quality 70 out.webp\`, one process per image. Versions: sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}); ${await toolVersion([CONVERT, '-version'])}.`,
        ],
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
