/**
 * Runs benchmarks by hand: `bun run bench [name…] [--smoke]`. Writes raw JSON to bench/results/ and replaces each
 * benchmark's section of BENCHMARKS.md. `--smoke` runs tiny sizes and writes nothing (the test suite uses it).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setUpSystemTools } from '@mediaforge/core/testing';
import { api } from './api.ts';
import { embedded } from './embedded.ts';
import { images } from './images.ts';
import { ingest } from './ingest.ts';
import { ingestMemory } from './ingest-memory.ts';
import type { Benchmark } from './lib.ts';
import { machineDescription, markdownTable } from './lib.ts';
import { queue } from './queue.ts';
import { queueScale } from './queue-scale.ts';
import { storageMemory } from './storage-memory.ts';
import { synthesis } from './synthesis.ts';
import { thumbnails } from './thumbnails.ts';
import { validation } from './validation.ts';

const BENCHMARKS: Benchmark[] = [
  storageMemory,
  ingestMemory,
  ingest,
  queue,
  queueScale,
  synthesis,
  images,
  thumbnails,
  validation,
  api,
  embedded,
];
const ROOT = join(import.meta.dir, '..');

const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const names = args.filter((arg) => !arg.startsWith('--'));
const unknown = names.filter((name) => !BENCHMARKS.some((b) => b.name === name));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  process.exit(2);
}

const selected = BENCHMARKS.filter((b) => names.length === 0 || names.includes(b.name));
await ensureTools(selected);

let failed = false;
for (const benchmark of selected) {
  console.error(`running ${benchmark.name}${smoke ? ' (smoke)' : ''}…`);
  const outcome = await benchmark.run({ smoke });
  const table = [markdownTable(outcome.table), ...(outcome.notes ?? [])].join('\n\n');
  console.log(`\n## ${benchmark.title}\n\n${table}\n\ntarget ${outcome.pass ? 'met' : 'MISSED'}`);
  failed ||= !outcome.pass;
  if (smoke) continue;
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  await Bun.write(join(ROOT, `bench/results/${benchmark.name}.json`), JSON.stringify(outcome.results, null, 2));
  await updateSection(benchmark, table, outcome.pass);
}
// The tables are written plain; Biome (the repo's formatter, which lints Markdown too) aligns them.
if (!smoke) Bun.spawnSync(['bun', 'x', 'biome', 'format', '--write', join(ROOT, 'BENCHMARKS.md')], { cwd: ROOT });
// Smoke runs check that each benchmark still works, not its targets (those hold at full size only).
process.exit(failed && !smoke ? 1 : 0);

/** Installs the peers' Debian packages that are missing (as root), or says which command to run. */
async function ensureTools(benchmarks: Benchmark[]): Promise<void> {
  const missing = await setUpSystemTools({ commands: benchmarks.flatMap((b) => b.tools ?? []) });
  if (missing.length > 0) process.exit(2);
}

async function updateSection(benchmark: Benchmark, table: string, pass: boolean): Promise<void> {
  const path = join(ROOT, 'BENCHMARKS.md');
  const file = Bun.file(path);
  const current = (await file.exists())
    ? await file.text()
    : '# Benchmarks\n\nRun by hand with `bun run bench [name]`; raw results are in `bench/results/`. Ratios and figures in one section come from one run on one machine.\n';
  const begin = `<!-- bench:${benchmark.name}:begin -->`;
  const end = `<!-- bench:${benchmark.name}:end -->`;
  const section = [
    begin,
    `## ${benchmark.title}`,
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machineDescription()}. Command: \`bun run bench ${benchmark.name}\`. Target ${pass ? 'met' : '**missed**'}.`,
    '',
    table,
    end,
  ].join('\n');
  const pattern = new RegExp(`${begin}[\\s\\S]*?${end}`);
  await Bun.write(
    path,
    pattern.test(current) ? current.replace(pattern, section) : `${current.trimEnd()}\n\n${section}\n`,
  );
}
