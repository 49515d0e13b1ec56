/** The shape every benchmark has, and the BENCHMARKS.md writer. */
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

export interface BenchmarkOutcome {
  /** Raw measurements, written to bench/results/<name>.json. */
  results: unknown;
  /** Whether the benchmark's target held. */
  pass: boolean;
  /** Rows for the Markdown table; the first row is the header. */
  table: string[][];
}

export interface Benchmark {
  name: string;
  title: string;
  run(options: { smoke: boolean }): Promise<BenchmarkOutcome>;
}

export function markdownTable(rows: string[][]): string {
  const [header = [], ...body] = rows;
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...body.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

export function machineDescription(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} × ${cpu}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, Bun ${Bun.version}, ${process.platform}`;
}

/** What a memory benchmark's child process reports. */
export interface MemoryResult {
  bytes: number;
  seconds: number;
  peakRssBytes: number;
  baselineRssBytes: number;
}

/** Runs `bench/<script>` in its own process and parses the JSON document it prints last. */
export async function runChild<T>(script: string, args: string[]): Promise<T> {
  const child = Bun.spawn(['bun', join(import.meta.dir, script), ...args], { stdout: 'pipe', stderr: 'inherit' });
  const [out, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  if (code !== 0) throw new Error(`${script} ${args.join(' ')} exited with ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as T;
}

/** Samples this process's RSS every 10 ms until stopped; returns the peak. */
export function rssSampler(): { stop(): number; baseline: number } {
  Bun.gc(true);
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  return {
    baseline,
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}
