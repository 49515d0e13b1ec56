/** The worker's timings and sizes: its options with their defaults filled in. */
import type { WorkerOptions, WorkerTimings } from './types.ts';

/** `options` with their defaults filled in, for a worker of `concurrency` slots. */
export function workerTimings(options: WorkerOptions, concurrency: number): WorkerTimings {
  const leaseMs = options.leaseMs ?? 30_000;
  const prefetch = Math.max(0, Math.floor(options.prefetch ?? 0));
  return {
    batchSize: Math.max(1, options.batchSize ?? concurrency + prefetch),
    prefetch,
    leaseMs,
    heartbeatMs: options.heartbeatMs ?? Math.min(3000, leaseMs / 3),
    pollMs: options.pollMs ?? (options.database.kind === 'pglite' ? 250 : 2000),
    softTimeoutMs: options.softTimeoutMs ?? 25 * 60_000,
    hardTimeoutMs: options.hardTimeoutMs ?? 30 * 60_000,
    reapMs: options.reapMs ?? leaseMs / 2,
    graceMs: options.graceMs ?? 30_000,
  };
}
