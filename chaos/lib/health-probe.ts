/** Runs health-probe.child.ts against a server and answers, per time window, how slow `/health` was. */
import { join } from 'node:path';

export interface Sample {
  at: number;
  ms: number;
  status: number;
}

export interface LatencyFigures {
  probes: number;
  failed: number;
  worstMs: number;
  p99Ms: number;
  p50Ms: number;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

export function startHealthProbe(base: URL, intervalMs = 50) {
  const child = Bun.spawn(
    [process.execPath, join(import.meta.dir, '../health-probe.child.ts'), base.href, String(intervalMs)],
    {
      stdout: 'pipe',
      stderr: 'ignore',
      stdin: 'ignore',
    },
  );
  const samples: Sample[] = [];
  void (async () => {
    let pending = '';
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      pending += decoder.decode(chunk, { stream: true });
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const [at, ms, status] = line.split(' ').map(Number);
        if (at !== undefined && ms !== undefined && status !== undefined) samples.push({ at, ms, status });
      }
    }
  })();
  return {
    /** Probes sent between `from` and `to` (epoch ms), including one still out when the window closed. */
    figures(from: number, to: number): LatencyFigures {
      const window = samples.filter((sample) => sample.at >= from && sample.at <= to);
      const latencies = window.map((sample) => sample.ms);
      return {
        probes: window.length,
        failed: window.filter((sample) => sample.status !== 200).length,
        worstMs: Math.round(Math.max(0, ...latencies)),
        p99Ms: Math.round(percentile(latencies, 99)),
        p50Ms: Math.round(percentile(latencies, 50)),
      };
    },
    /** Waits until a probe sent after `at` has answered, so a window's last (slowest) probe is counted. */
    async settle(at: number, timeoutMs = 15_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!samples.some((sample) => sample.at > at) && Date.now() < deadline) await Bun.sleep(20);
    },
    async stop(): Promise<void> {
      child.kill('SIGTERM');
      await child.exited;
    },
  };
}
