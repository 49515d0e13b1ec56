/**
 * Synthesis: sample files per second for each media type at 15 KiB and 1 MiB, each written to disk, against making
 * an equivalent file with ffmpeg's lavfi sources (sine → MP3/WAV, testsrc → H.264 MP4) and ImageMagick (random
 * noise → JPEG/PNG), one command per file as a user's script would run them.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesize } from '@mediaforge/core';
import { type Benchmark, fixed, median, sh, toolVersion } from './lib.ts';

const CONVERT = '/usr/bin/convert';

interface Case {
  mediaType: 'text' | 'image' | 'audio' | 'video';
  format: string;
  extension: string;
  /** The peer's command for one file of about `bytes` bytes, or undefined when no peer makes this type. */
  peer?: (bytes: number, out: string) => string[];
  peerName?: string;
}

const side = (bytes: number, bytesPerPixel: number) => Math.max(16, Math.round(Math.sqrt(bytes / bytesPerPixel)));

const CASES: Case[] = [
  { mediaType: 'text', format: 'text/plain', extension: '.txt' },
  {
    mediaType: 'image',
    format: 'image/jpeg',
    extension: '.jpg',
    peerName: 'ImageMagick',
    // Colour noise at quality 90 costs about 0.72 bytes a pixel (measured), so files land near the size asked.
    peer: (bytes, out) => {
      const s = side(bytes, 0.72);
      return [CONVERT, '-size', `${s}x${s}`, 'xc:gray', '+noise', 'Random', '-quality', '90', out];
    },
  },
  {
    mediaType: 'image',
    format: 'image/png',
    extension: '.png',
    peerName: 'ImageMagick',
    peer: (bytes, out) => {
      const s = side(bytes, 2.0);
      return [CONVERT, '-size', `${s}x${s}`, 'xc:gray', '+noise', 'Random', out];
    },
  },
  {
    mediaType: 'audio',
    format: 'audio/mpeg',
    extension: '.mp3',
    peerName: 'ffmpeg',
    peer: (bytes, out) => {
      const kbps = bytes < 64 * 1024 ? 32 : 128;
      const seconds = (bytes * 8) / (kbps * 1000);
      return ffmpeg(`sine=frequency=440:duration=${seconds}`, ['-b:a', `${kbps}k`], out);
    },
  },
  {
    mediaType: 'audio',
    format: 'audio/wav',
    extension: '.wav',
    peerName: 'ffmpeg',
    peer: (bytes, out) => ffmpeg(`sine=frequency=440:sample_rate=22050:duration=${bytes / 44100}`, [], out),
  },
  {
    mediaType: 'video',
    format: 'video/mp4',
    extension: '.mp4',
    peerName: 'ffmpeg',
    peer: (bytes, out) => {
      const [size, seconds] = bytes < 64 * 1024 ? ['64x48', 2] : ['320x240', 6];
      const kbps = Math.round((bytes * 8) / seconds / 1000);
      // Temporal noise gives x264 something to spend the bitrate on (testsrc alone compresses to a tenth).
      return ffmpeg(
        `testsrc=size=${size}:rate=10:duration=${seconds}`,
        ['-vf', 'noise=alls=60:allf=t+u', '-c:v', 'libx264', '-b:v', `${kbps}k`],
        out,
      );
    },
  },
];

function ffmpeg(source: string, options: string[], out: string): string[] {
  return ['ffmpeg', '-v', 'error', '-y', '-f', 'lavfi', '-i', source, ...options, out];
}

/** Files per second making `count` files one after another, and their mean size. */
async function timeFiles(count: number, make: (i: number) => Promise<string>): Promise<{ rate: number; mean: number }> {
  let bytes = 0;
  const started = performance.now();
  for (let i = 0; i < count; i++) bytes += statSync(await make(i)).size;
  return { rate: count / ((performance.now() - started) / 1000), mean: bytes / count };
}

export const synthesis: Benchmark = {
  name: 'synthesis',
  title: 'Synthesis: sample files per second against ffmpeg and ImageMagick',
  tools: ['ffmpeg', '/usr/bin/convert'],
  async run({ smoke }) {
    const dir = mkdtempSync(join(tmpdir(), 'mediaforge-bench-synth-'));
    const reps = smoke ? 1 : 3;
    const sizes = smoke ? [15 * 1024] : [15 * 1024, 1024 * 1024];
    const rows: string[][] = [];
    const results: Record<string, unknown>[] = [];
    let worst = Number.POSITIVE_INFINITY;
    try {
      // Warm up: the first MP3 and MP4 load their encoders (WebAssembly for video).
      for (const c of CASES) await new Response((await synthesize({ ...c, sizeBytes: 4096 })).stream).arrayBuffer();
      for (const size of sizes) {
        const count = smoke ? 2 : size < 64 * 1024 ? 20 : 8;
        for (const c of CASES) {
          const ours: number[] = [];
          const theirs: number[] = [];
          let oursMean = 0;
          let theirsMean = 0;
          for (let rep = 0; rep < reps; rep++) {
            const a = await timeFiles(count, async (i) => {
              const out = join(dir, `mf-${i}${c.extension}`);
              const made = await synthesize({ mediaType: c.mediaType, format: c.format, sizeBytes: size, seed: i });
              await Bun.write(out, new Response(made.stream));
              return out;
            });
            ours.push(a.rate);
            oursMean = a.mean;
            const { peer } = c;
            if (peer) {
              const b = await timeFiles(count, async (i) => {
                const out = join(dir, `peer-${i}${c.extension}`);
                await sh(peer(size, out));
                return out;
              });
              theirs.push(b.rate);
              theirsMean = b.mean;
            }
          }
          const ratio = theirs.length > 0 ? median(ours) / median(theirs) : undefined;
          if (ratio !== undefined) worst = Math.min(worst, ratio);
          results.push({ size, format: c.format, ours, theirs, oursMean, theirsMean, count });
          rows.push([
            `${c.format} ${size < 64 * 1024 ? '15 KiB' : '1 MiB'}`,
            fixed(median(ours), 1),
            fixed(oursMean / 1024, 1),
            c.peerName ?? '(none makes text)',
            theirs.length > 0 ? fixed(median(theirs), 1) : '',
            theirs.length > 0 ? fixed(theirsMean / 1024, 1) : '',
            ratio === undefined ? '' : `${fixed(ratio, 1)}×`,
          ]);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return {
      results,
      pass: worst >= 10,
      table: [
        ['file', 'mediaforge files/s', 'mean KiB', 'peer', 'peer files/s', 'peer mean KiB', 'mediaforge ÷ peer'],
        ...rows,
      ],
      notes: [
        `Target: ≥ 10× the peer per file (worst ${fixed(worst, 1)}×). Files are made one after another and written to disk; median of ${reps} runs.`,
        `Peers: ${await toolVersion(['ffmpeg', '-version'])}; ${await toolVersion([CONVERT, '-version'])}. The peer is one process per file, as a script calling it would be; mediaforge runs in one process.`,
      ],
    };
  },
};
