/**
 * `mediaforge serve` in a process of its own, exactly as deployed, so its memory (VmRSS, VmHWM) and its event loop
 * are its own and not the attacking test's. Its output is drained continuously (a full pipe would stall the server)
 * and kept for the report: the lines logged as "unexpected error" are what a 500 leaves behind.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Subprocess } from 'bun';

const CLI_MAIN = join(import.meta.dir, '../../packages/cli/src/main.ts');
/** A developer's shell may carry these; the server under test gets only what the scenario sets. */
const SCRUBBED = ['DATABASE_URL', 'STORAGE_URL', 'MEDIAFORGE_HOME', 'LOG_LEVEL', 'S3_BUCKET', 'HZ_OBJ_BUCKET_NAME'];

export interface ServeProcess {
  url: URL;
  pid: number;
  child: Subprocess;
  /** Everything it printed (the last 256 KiB). */
  output(): string;
  /** Log lines of errors the server did not expect (they become 500s). */
  unexpectedErrors(): string[];
  stop(): Promise<number>;
}

export async function startServeProcess(env: Record<string, string>): Promise<ServeProcess> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !SCRUBBED.includes(key)));
  const child = Bun.spawn([process.execPath, CLI_MAIN, 'serve', '--no-worker'], {
    env: { ...base, API_PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
    stdin: 'ignore',
  });
  let text = '';
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) text = (text + decoder.decode(chunk, { stream: true })).slice(-256 * 1024);
  };
  void drain(child.stdout);
  void drain(child.stderr);
  const deadline = Date.now() + 60_000;
  const banner = () => /API on (http:\/\/\S+)/.exec(text)?.[1];
  while (!banner()) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`mediaforge serve did not start: ${text}`);
    await Bun.sleep(50);
  }
  return {
    url: new URL(banner() as string),
    pid: child.pid,
    child,
    output: () => text,
    unexpectedErrors: () => text.split('\n').filter((line) => line.includes('"unexpected error"')),
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await child.exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** A field of /proc/<pid>/status in MiB: VmRSS (resident now) or VmHWM (the peak so far). */
export function memoryMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** Samples a process's resident memory every `everyMs` until stopped; the peak seen is the attack's peak RSS. */
export function sampleRss(pid: number, everyMs = 50): { stop(): number } {
  let peak = memoryMiB(pid, 'VmRSS');
  const timer = setInterval(() => {
    peak = Math.max(peak, memoryMiB(pid, 'VmRSS'));
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, memoryMiB(pid, 'VmRSS'));
    },
  };
}
