/**
 * Validation: detection + full integrity validation over the fixture corpus (every supported type, made by real
 * encoders) and over large synthesized files, against `ffprobe` and `file --mime-type` run on each file, as a
 * script checking uploads would run them.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { detectFileType, synthesize, validateFileIntegrity } from '@mediaforge/core';
import { type Benchmark, fixed, median, sh, toolVersion } from './lib.ts';

const FIXTURES = join(import.meta.dir, '../packages/core/test/fixtures');

type Check = (path: string) => Promise<unknown>;

const mediaforge: Check = async (path) => {
  const file = Bun.file(path);
  const head = new Uint8Array(await file.slice(0, 64 * 1024).arrayBuffer());
  const detected = await detectFileType(head);
  return validateFileIntegrity(file, detected.contentType);
};
const ffprobe: Check = (path) => sh(['ffprobe', '-v', 'error', '-show_format', '-show_streams', '-of', 'json', path]);
const fileMime: Check = (path) => sh(['file', '-b', '--mime-type', path]);

async function timeAll(paths: string[], passes: number, check: Check): Promise<number> {
  const started = performance.now();
  for (let pass = 0; pass < passes; pass++) for (const path of paths) await check(path);
  return (performance.now() - started) / 1000;
}

export const validation: Benchmark = {
  name: 'validation',
  title: 'Validation: detection + integrity against ffprobe and file(1)',
  tools: ['ffprobe', 'file'],
  async run({ smoke }) {
    const dir = mkdtempSync(join(tmpdir(), 'mediaforge-bench-validate-'));
    const reps = smoke ? 1 : 3;
    try {
      const corpus = readdirSync(FIXTURES)
        .filter((name) => extname(name) !== '')
        .map((name) => join(FIXTURES, name));
      const large: string[] = [];
      const largeBytes = smoke ? 1024 * 1024 : 50 * 1024 * 1024;
      for (const [mediaType, format, extension] of [
        ['audio', 'audio/mpeg', '.mp3'],
        ['audio', 'audio/wav', '.wav'],
        ['video', 'video/mp4', '.mp4'],
      ] as const) {
        const made = await synthesize({ mediaType, format, sizeBytes: largeBytes, seed: 1 });
        const path = join(dir, `large${extension}`);
        await Bun.write(path, new Response(made.stream));
        large.push(path);
      }
      const sets = [
        { name: `fixture corpus (${corpus.length} files)`, paths: corpus, passes: smoke ? 1 : 10 },
        { name: `3 large files (MP3, WAV, MP4; ${largeBytes / 1024 / 1024} MiB each)`, paths: large, passes: 1 },
      ];
      const tools: [string, Check, (path: string) => boolean][] = [
        ['mediaforge detect + validate', mediaforge, () => true],
        // ffprobe has nothing to say about plain text.
        ['ffprobe -show_format -show_streams', ffprobe, (path) => extname(path) !== '.txt'],
        ['file --mime-type', fileMime, () => true],
      ];
      const rows: string[][] = [];
      const results: Record<string, Record<string, number[]>> = {};
      for (const set of sets) {
        let ours = 0;
        for (const [name, check, applies] of tools) {
          const paths = set.paths.filter(applies);
          const bytes = paths.reduce((sum, path) => sum + statSync(path).size, 0) * set.passes;
          const seconds: number[] = [];
          for (let rep = 0; rep < reps; rep++) seconds.push(await timeAll(paths, set.passes, check));
          results[set.name] = { ...results[set.name], [name]: seconds };
          const filesPerSecond = (paths.length * set.passes) / median(seconds);
          if (name.startsWith('mediaforge')) ours = filesPerSecond;
          rows.push([
            set.name,
            name,
            String(paths.length * set.passes),
            fixed(filesPerSecond, 1),
            fixed(bytes / 1e6 / median(seconds), 1),
            name.startsWith('mediaforge') ? '1.00' : fixed(ours / filesPerSecond, 2),
          ]);
        }
      }
      return {
        results,
        pass: true,
        table: [['files', 'tool', 'checks', 'files/s', 'MB/s', 'mediaforge ÷ this (files/s)'], ...rows],
        notes: [
          `mediaforge reads every frame, page, box or chunk and checks it (a full image decode with sharp); ffprobe reads headers and the first packets only, and file(1) only the first bytes. So on large files mediaforge does far more work per byte than either. Median of ${reps} runs; the corpus is checked ${sets[0]?.passes} times per run. No target is set for this one.`,
          `Versions: ${await toolVersion(['ffprobe', '-version'])}; ${await toolVersion(['file', '--version'])}.`,
        ],
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
