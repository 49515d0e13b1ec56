/** The shape every benchmark has, and the BENCHMARKS.md writer. */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { ToolCommand } from '@mediaforge/core/testing';

export interface BenchmarkOutcome {
  /** Raw measurements, written to bench/results/<name>.json. */
  results: unknown;
  /** Whether the benchmark's target held. */
  pass: boolean;
  /** Rows for the Markdown table; the first row is the header. */
  table: string[][];
  /** Paragraphs after the table: settings, versions, what limits the result. */
  notes?: string[];
}

export interface Benchmark {
  name: string;
  title: string;
  /** The peer tools it runs (their Debian packages are in core's SYSTEM_TOOLS). */
  tools?: readonly ToolCommand[];
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

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Runs a command to its end and collects what it printed and its exit code. */
export async function collect(
  command: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ out: string; err: string; code: number }> {
  const child = Bun.spawn(command, { ...options, stdout: 'pipe', stderr: 'pipe' });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { out, err, code };
}

/** Runs a command to completion; throws with its stderr when it fails. */
export async function sh(command: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  const { out, err, code } = await collect(command, options);
  if (code !== 0) throw new Error(`${command.join(' ')} exited with ${code}: ${err.slice(-2000)}`);
  return out;
}

/** The first line a tool prints about its version, for the report. */
export async function toolVersion(command: string[]): Promise<string> {
  try {
    const { out, err } = await collect(command);
    return (out.trim() || err.trim()).split('\n')[0] ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

export const fixed = (value: number, digits = 1) => value.toFixed(digits);

/** The 44-byte header of a 16-bit PCM WAV at 44.1 kHz carrying `dataBytes` of samples. */
export function wavHeader(dataBytes: number, channels = 2): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVEfmt ', 8, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(44_100, 24);
  header.writeUInt32LE(44_100 * 2 * channels, 28);
  header.writeUInt16LE(2 * channels, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

/**
 * On this virtual machine, memory the guest has not touched lately (its free pages go back to the host after ~15 s)
 * costs a fault on the host the first time it is written: a buffered 1 GiB write into it ran at ~420 MB/s, into pages
 * just freed at 3.5–5.6 GB/s. Without care, whichever tool runs first after a pause pays that alone (in `bench ingest`
 * it was always mediaforge). Called right before each timed run: writes and deletes a scratch file of `bytes`, so
 * every tool starts with the same freshly recycled pages.
 */
export function recyclePageCache(path: string, bytes: number): void {
  if (!path || bytes <= 0) return;
  const block = new Uint8Array(1024 * 1024);
  const fd = openSync(path, 'w');
  try {
    for (let written = 0; written < bytes; written += block.byteLength) writeSync(fd, block);
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
}

/** CPU time (user + system, seconds) a process has used so far, from /proc (0 where it cannot be read). */
export function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is the 3rd field, utime the 14th, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Linux's USER_HZ, the unit of /proc's CPU times (100 on every Linux this runs on). */
const CLOCK_TICKS = 100;

/**
 * SHA-256 throughput of this machine now (bytes/s): `CryptoHasher` over 256 MiB of fresh random bytes in 1 MiB
 * updates, on one thread, as the spool's hashing thread does. The one hash mediaforge cannot skip (the record's
 * identity), so its CPU cost per byte is part of the ceiling the benchmarks report.
 */
export function sha256BytesPerSecond(bytes = 256 * 1024 * 1024): number {
  const block = crypto.getRandomValues(new Uint8Array(1024 * 1024));
  const hasher = new Bun.CryptoHasher('sha256');
  const started = performance.now();
  for (let done = 0; done < bytes; done += block.byteLength) hasher.update(block);
  hasher.digest();
  return bytes / ((performance.now() - started) / 1000);
}

/**
 * The best ratio (mediaforge ÷ peer, by wall time) this machine allows when mediaforge must do at least the peer's
 * work and SHA-256 every byte on top: the peer's process used `peerCpu` seconds and the processes it talked to
 * (origin, client) `othersCpu` in `peerSeconds`; with `hashCpu` more, the same `cores` need at least
 * (peerCpu + othersCpu + hashCpu) ÷ cores seconds. 1 means nothing physical stands in the way.
 */
export function cpuCeiling(
  { peerSeconds, peerCpu, othersCpu }: { peerSeconds: number; peerCpu: number; othersCpu: number },
  hashCpu: number,
  cores = availableParallelism(),
): number {
  const floor = (peerCpu + othersCpu + hashCpu) / cores;
  return peerSeconds / Math.max(peerSeconds, floor);
}
