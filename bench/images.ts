/**
 * Images: recompressing photo-like JPEGs and PNGs at quality 85, one after another: mediaforge's compressImage
 * against calling sharp directly with the same encoder settings (the ceiling: compressImage is sharp plus checks)
 * and against ImageMagick's convert, one process per image.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressImage } from '@mediaforge/core';
import sharp from 'sharp';
import { type Benchmark, fixed, median, sh, toolVersion } from './lib.ts';

const CONVERT = '/usr/bin/convert';

/** A smooth scene (overlapping seeded waves) with a little sensor-like grain: compresses like a photo. */
export async function photo(seed: number, width: number, height: number, format: 'jpeg' | 'png'): Promise<Uint8Array> {
  const pixels = new Uint8Array(width * height * 3);
  let state = seed * 2654435761;
  const random = () => {
    state = (state * 1103515245 + 12345) >>> 0;
    return state / 4294967296;
  };
  const waves = Array.from({ length: 4 }, () => [random() * 0.02, random() * 0.02, random() * 6.28, random()]);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let channel = 0; channel < 3; channel++) {
        let value = 0;
        for (const [fx = 0, fy = 0, phase = 0, weight = 0] of waves) {
          value += weight * Math.sin(x * fx * (channel + 1) + y * fy + phase);
        }
        pixels[i++] = Math.max(0, Math.min(255, 128 + value * 60 + (random() - 0.5) * 12));
      }
    }
  }
  const image = sharp(pixels, { raw: { width, height, channels: 3 } });
  return format === 'jpeg' ? image.jpeg({ quality: 95 }).toBuffer() : image.png({ compressionLevel: 6 }).toBuffer();
}

/** The same encoder settings compressImage uses, without its checks. */
function rawSharp(input: Uint8Array, format: 'jpeg' | 'png'): Promise<Buffer> {
  const pipeline = sharp(input).rotate().keepIccProfile();
  return format === 'jpeg'
    ? pipeline.jpeg({ quality: 85, mozjpeg: true }).toBuffer()
    : pipeline.png({ compressionLevel: 9, adaptiveFiltering: true, palette: false }).toBuffer();
}

export const images: Benchmark = {
  name: 'images',
  title: 'Images: recompressing photo-like JPEG and PNG at quality 85',
  tools: ['/usr/bin/convert'],
  async run({ smoke }) {
    const dir = mkdtempSync(join(tmpdir(), 'mediaforge-bench-images-'));
    const perFormat = smoke ? 2 : 100;
    const reps = smoke ? 1 : 3;
    const [width, height] = smoke ? [160, 120] : [1024, 768];
    try {
      const inputs: { path: string; bytes: Uint8Array; format: 'jpeg' | 'png' }[] = [];
      for (const format of ['jpeg', 'png'] as const) {
        for (let i = 0; i < perFormat; i++) {
          const bytes = await photo(i + 1, width, height, format);
          const path = join(dir, `in-${format}-${i}.${format === 'jpeg' ? 'jpg' : 'png'}`);
          await Bun.write(path, bytes);
          inputs.push({ path, bytes, format });
        }
      }
      const tools = {
        mediaforge: async (input: (typeof inputs)[number]) =>
          (await compressImage(input.bytes, { quality: 85 })).compressedSize,
        'sharp (direct)': async (input: (typeof inputs)[number]) =>
          Math.min(input.bytes.byteLength, (await rawSharp(input.bytes, input.format)).byteLength),
        'ImageMagick convert': async (input: (typeof inputs)[number]) => {
          const out = join(dir, `out.${input.format === 'jpeg' ? 'jpg' : 'png'}`);
          await sh([CONVERT, input.path, '-auto-orient', '-strip', '-quality', '85', out]);
          return statSync(out).size;
        },
      };
      // Warm up each tool (sharp's first call loads libvips) before anything is timed.
      for (const tool of Object.values(tools))
        for (const input of inputs.slice(perFormat - 1, perFormat + 1)) await tool(input);
      const rates: Record<string, Record<string, number[]>> = {};
      const sizes: Record<string, Record<string, number>> = {};
      for (let rep = 0; rep < reps; rep++) {
        for (const [name, tool] of Object.entries(tools)) {
          for (const format of ['jpeg', 'png'] as const) {
            let out = 0;
            const subset = inputs.filter((input) => input.format === format);
            const started = performance.now();
            for (const input of subset) out += await tool(input);
            const rate = subset.length / ((performance.now() - started) / 1000);
            const toolRates = rates[name] ?? {};
            toolRates[format] = [...(toolRates[format] ?? []), rate];
            rates[name] = toolRates;
            sizes[name] = { ...sizes[name], [format]: out };
          }
        }
      }
      const inBytes = (format: string) =>
        inputs.filter((input) => input.format === format).reduce((sum, input) => sum + input.bytes.byteLength, 0);
      const rows: string[][] = [];
      let worstVsSharp = Number.POSITIVE_INFINITY;
      for (const format of ['jpeg', 'png'] as const) {
        const ours = median(rates.mediaforge?.[format] ?? []);
        for (const name of Object.keys(tools)) {
          const rate = median(rates[name]?.[format] ?? []);
          const out = sizes[name]?.[format] ?? 0;
          if (name === 'sharp (direct)') worstVsSharp = Math.min(worstVsSharp, ours / rate);
          rows.push([
            format,
            name,
            fixed(rate, 1),
            fixed(inBytes(format) / 1e6, 1),
            fixed(out / 1e6, 1),
            `${fixed((1 - out / inBytes(format)) * 100, 1)}%`,
            name === 'mediaforge' ? '1.00' : fixed(ours / rate, 2),
          ]);
        }
      }
      return {
        results: { width, height, perFormat, reps, rates, sizes },
        pass: worstVsSharp >= 0.9,
        table: [['input', 'tool', 'images/s', 'MB in', 'MB out', 'saved', 'mediaforge ÷ this'], ...rows],
        notes: [
          `Target: ≥ 0.9× sharp called directly (worst ${fixed(worstVsSharp, 2)}×). ${perFormat} JPEGs (quality 95) and ${perFormat} PNGs of ${width}×${height} photo-like scenes, recompressed one after another, median of ${reps} runs.`,
          `Settings: mediaforge \`compressImage(bytes, { quality: 85 })\` (mozjpeg for JPEG; lossless PNG at compression 9 with adaptive filtering; never larger than the input); sharp direct: the same encoder settings on \`sharp(input).rotate().keepIccProfile()\`; ImageMagick: \`convert in -auto-orient -strip -quality 85 out\`, one process per image. Versions: sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}); ${await toolVersion([CONVERT, '-version'])}.`,
        ],
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
