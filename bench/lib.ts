/** The shape every benchmark has, and the BENCHMARKS.md writer. */
import { cpus, totalmem } from 'node:os';

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
