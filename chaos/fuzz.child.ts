/**
 * Mutation fuzzing of the fixture corpus, in a process of its own so the parent can bound it in time (a watchdog on
 * progress) and memory (its peak RSS). Each iteration mutates one fixture and runs detection and integrity
 * validation from the bytes, exactly as an upload or ingest would. An outcome is either acceptance or a typed
 * `FileProcessingError`; anything else is a crash, recorded with the input that caused it.
 *
 * Usage: bun fuzz.child.ts <iterations> <seed> <crash-dir>. Prints progress to stderr, a JSON summary to stdout.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  detectFileType,
  FileProcessingError,
  FileTypeNotSupportedError,
  validateFileIntegrity,
} from '@mediaforge/core';
import { seededRandom } from './lib/net.ts';

const FIXTURES = join(import.meta.dir, '../packages/core/test/fixtures');
const [iterations = 100, seed = 1] = process.argv.slice(2, 4).map(Number);
const crashDir = process.argv[4] ?? '/tmp';
const random = seededRandom(seed);
const int = (n: number) => Math.floor(random() * n);

const corpus = readdirSync(FIXTURES)
  .filter((name) => name.startsWith('fixture'))
  .map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(FIXTURES, name))) }));

const MUTATIONS = {
  'bit flips': (input: Uint8Array) => {
    const out = input.slice();
    for (let i = 0, n = 1 + int(8); i < n; i++) {
      const at = int(out.length);
      out[at] = (out[at] ?? 0) ^ (1 << int(8));
    }
    return out;
  },
  'byte overwrite': (input: Uint8Array) => {
    const out = input.slice();
    const values = [0x00, 0xff, 0x7f, 0x80];
    for (let i = 0, n = 1 + int(16); i < n; i++) out[int(out.length)] = values[int(values.length)] ?? int(256);
    return out;
  },
  'length field maxed': (input: Uint8Array) => {
    // Container parsers trust 32-bit sizes: make one near the start enormous.
    const out = input.slice();
    const at = int(Math.min(out.length - 4, 4096));
    out.set([0xff, 0xff, 0xff, 0xf0], Math.max(0, at));
    return out;
  },
  truncation: (input: Uint8Array) => input.slice(0, int(input.length)),
  'slice duplicated': (input: Uint8Array) => {
    const start = int(input.length);
    const slice = input.slice(start, start + 1 + int(4096));
    const at = int(input.length);
    return new Uint8Array([...input.subarray(0, at), ...slice, ...input.subarray(at)]);
  },
  'header spliced from another type': (input: Uint8Array) => {
    const other = corpus[int(corpus.length)]?.bytes ?? input;
    const cut = 16 + int(256);
    return new Uint8Array([...other.subarray(0, cut), ...input.subarray(cut)]);
  },
} as const;
const kinds = Object.keys(MUTATIONS) as (keyof typeof MUTATIONS)[];

const outcomes: Record<string, number> = {};
const crashes: { fixture: string; mutation: string; error: string; file: string }[] = [];
let slowestMs = 0;
let peakRss = 0;
for (let i = 0; i < iterations; i++) {
  const fixture = corpus[int(corpus.length)];
  const mutation = kinds[int(kinds.length)];
  if (!fixture || !mutation) continue;
  const input = MUTATIONS[mutation](fixture.bytes);
  const started = performance.now();
  let outcome: string;
  try {
    if (i % 4 === 0) {
      // A quarter go through the streaming path uploads and downloads use.
      const detected = await detectFileType(new Blob([input]).stream());
      if (!detected.isValid) throw new FileTypeNotSupportedError(detected.contentType);
      await validateFileIntegrity(detected.stream, detected.contentType);
    } else {
      const detected = await detectFileType(input);
      if (!detected.isValid) throw new FileTypeNotSupportedError(detected.contentType);
      await validateFileIntegrity(input, detected.contentType);
    }
    outcome = 'accepted';
  } catch (error) {
    if (error instanceof FileProcessingError) outcome = error.code;
    else {
      outcome = 'CRASH';
      const file = join(crashDir, `crash-${seed}-${i}-${fixture.name}`);
      writeFileSync(file, input);
      crashes.push({ fixture: fixture.name, mutation, error: String(error).slice(0, 300), file });
    }
  }
  slowestMs = Math.max(slowestMs, performance.now() - started);
  outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  if (i % 25 === 0) {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    process.stderr.write(`${i}\n`);
  }
}
peakRss = Math.max(peakRss, process.memoryUsage().rss);
console.log(
  JSON.stringify({
    iterations,
    fixtures: corpus.length,
    mutations: kinds,
    outcomes,
    crashes,
    slowestMs: Math.round(slowestMs),
    peakRssMiB: Math.round(peakRss / 1048576),
  }),
);
