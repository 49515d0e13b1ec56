/**
 * Mutation fuzzing of the fixture corpus, in a process of its own so the parent can bound it in time (a watchdog on
 * progress) and memory (its peak RSS). Each iteration mutates one fixture and runs detection and integrity
 * validation from the bytes, exactly as an upload or ingest would. An outcome is either acceptance or a typed
 * `FileProcessingError`; anything else is a crash, recorded with the input that caused it.
 *
 * The corpus also holds the structure-aware parser bombs of core (every container, at every scale), each fed whole
 * once and then mutated like the fixtures. Every input is timed: one that costs more than 1 s per MB (1 s below
 * 1 MB: a small image may declare up to the 50 MP pixel cap, and one decode pass over that takes 0.2–0.4 s here) is timed again, and is reported as over budget if it is slow twice (a single
 * slow run on a shared machine is a GC pause or a neighbour, a repeated one is the input).
 *
 * Usage: bun fuzz.child.ts <iterations> <seed> <crash-dir> [bomb scales, comma-separated]. Prints progress to
 * stderr, a JSON summary to stdout.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  detectFileType,
  FileProcessingError,
  FileTypeNotSupportedError,
  validateFileIntegrity,
} from '@mediaforge/core';
import { parserBombs } from '@mediaforge/core/testing';
import { seededRandom } from './lib/net.ts';

const FIXTURES = join(import.meta.dir, '../packages/core/test/fixtures');
const [iterations = 100, seed = 1] = process.argv.slice(2, 4).map(Number);
const crashDir = process.argv[4] ?? '/tmp';
const bombScales = (process.argv[5] ?? '16,1024').split(',').map(Number);
const random = seededRandom(seed);
const int = (n: number) => Math.floor(random() * n);

const corpus = readdirSync(FIXTURES)
  .filter((name) => name.startsWith('fixture'))
  .map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(FIXTURES, name))) }));
const bombs = parserBombs({ seed, scales: bombScales });
/** Mutating a multi-megabyte bomb thousands of times would spend the run copying it: the small ones are mutated. */
const smallBombs = bombs.filter((bomb) => bomb.bytes.byteLength <= 256 * 1024);

/**
 * 1 s per MB, and 1 s for anything smaller. The bombs this guards against cost 10 s and more; a small input that
 * declares a 50 MP image costs what the pixel cap allows (a truncated progressive JPEG of 7040 × 7040 with a few dozen
 * scans: 0.4 s on a quiet machine, twice that under load), the same 1 s floor as chaos/exhaustion.test.ts.
 */
const budgetMs = (size: number) => Math.max(1000, (1000 * size) / 1_000_000);
const perMb = (ms: number, size: number) => ms / Math.max(size / 1_000_000, 0.25);

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
const overBudget: { input: string; bytes: number; ms: number }[] = [];
let slowestMs = 0;
let slowestPerMb = { input: '', bytes: 0, ms: 0, msPerMb: 0 };
let peakRss = 0;

/** Detection and validation of one input, as an upload or ingest does it; the outcome is a code or 'CRASH'. */
async function check(input: Uint8Array, streaming: boolean): Promise<{ outcome: string; error?: unknown }> {
  try {
    if (streaming) {
      const detected = await detectFileType(new Blob([input as Uint8Array<ArrayBuffer>]).stream());
      if (!detected.isValid) throw new FileTypeNotSupportedError(detected.contentType);
      await validateFileIntegrity(detected.stream, detected.contentType);
    } else {
      const detected = await detectFileType(input);
      if (!detected.isValid) throw new FileTypeNotSupportedError(detected.contentType);
      await validateFileIntegrity(input, detected.contentType);
    }
    return { outcome: 'accepted' };
  } catch (error) {
    return error instanceof FileProcessingError ? { outcome: error.code } : { outcome: 'CRASH', error };
  }
}

async function timed(input: Uint8Array, streaming: boolean) {
  const started = performance.now();
  const result = await check(input, streaming);
  return { ...result, ms: performance.now() - started };
}

async function feed(i: number, label: string, mutation: string, input: Uint8Array) {
  // A quarter go through the streaming path uploads and downloads use.
  const streaming = i % 4 === 0;
  const first = await timed(input, streaming);
  const { outcome, error } = first;
  let ms = first.ms;
  if (ms > budgetMs(input.byteLength)) {
    const again = await timed(input, streaming);
    ms = Math.min(ms, again.ms);
    if (ms > budgetMs(input.byteLength)) {
      overBudget.push({ input: `${label} / ${mutation}`, bytes: input.byteLength, ms: Math.round(ms) });
      writeFileSync(join(crashDir, `slow-${seed}-${mutation === 'whole bomb' ? 'bomb' : 'input'}-${i}`), input);
    }
  }
  if (outcome === 'CRASH') {
    const file = join(crashDir, `crash-${seed}-${i}-${label.replace(/[^\w.-]+/g, '_').slice(0, 80)}`);
    writeFileSync(file, input);
    crashes.push({ fixture: label, mutation, error: String(error).slice(0, 300), file });
  }
  slowestMs = Math.max(slowestMs, ms);
  const cost = perMb(ms, input.byteLength);
  if (cost > slowestPerMb.msPerMb) {
    slowestPerMb = {
      input: `${label} / ${mutation}`,
      bytes: input.byteLength,
      ms: Math.round(ms),
      msPerMb: Math.round(cost),
    };
  }
  outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  if (i % 25 === 0) {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    process.stderr.write(`${i}\n`);
  }
}

// Start the validation threads and load sharp first: one-off costs that are not any input's.
await check(corpus.find((f) => f.name === 'fixture.png')?.bytes ?? new Uint8Array(), false);
await check(corpus.find((f) => f.name === 'fixture.mp4')?.bytes ?? new Uint8Array(), true);

for (const [b, bomb] of bombs.entries()) await feed(b, `${bomb.mime} ${bomb.name}`, 'whole bomb', bomb.bytes);
for (let i = 0; i < iterations; i++) {
  // One input in five is a mutated bomb, the rest mutated fixtures.
  const bomb = i % 5 === 4 ? smallBombs[int(smallBombs.length)] : undefined;
  const fixture = bomb ? { name: `${bomb.mime} ${bomb.name}`, bytes: bomb.bytes } : corpus[int(corpus.length)];
  const mutation = kinds[int(kinds.length)];
  if (!fixture || !mutation) continue;
  await feed(i, fixture.name, mutation, MUTATIONS[mutation](fixture.bytes));
}
peakRss = Math.max(peakRss, process.memoryUsage().rss);
console.log(
  JSON.stringify({
    iterations: iterations + bombs.length,
    fixtures: corpus.length,
    bombs: bombs.length,
    bombScales,
    mutations: kinds,
    outcomes,
    crashes,
    slowestMs: Math.round(slowestMs),
    slowestPerMb,
    overBudget,
    peakRssMiB: Math.round(peakRss / 1048576),
  }),
);
