#!/usr/bin/env bun
/** `bunx @mediaforge/worker`: the worker on its own, configured by the environment (see the README). */
import { parseArgs } from 'node:util';

// A SIGTERM while the process is still loading or connecting (an orchestrator scaling down a worker it just started)
// must not kill it mid-start: note it here, before the heavy imports, and stop cleanly once started.
let stopRequested = false;
const startup = new AbortController();
const early = () => {
  stopRequested = true;
  startup.abort();
};
process.on('SIGTERM', early);
process.on('SIGINT', early);
const { FileProcessingError } = await import('@mediaforge/core');
const { exitSoonAfterStop, runWorker } = await import('./run.ts');

const usage = `Usage: mediaforge-worker [--concurrency N] [--prefetch N] [--queues a,b] [--grace SECONDS] [--lease SECONDS]
                         [--connect-timeout SECONDS] [--until-idle]

Runs a mediaforge worker: claims queued items (ingest, generate, maintenance, optimization) from the database in
DATABASE_URL, stores files in STORAGE_URL and fires due schedules. Default queues: default,maintenance,optimization. SIGTERM/SIGINT drain it (in-flight items finish or are handed back); a second
signal exits at once. A database unreachable at start-up is retried for --connect-timeout seconds (default 60).`;

try {
  const { values } = parseArgs({
    options: {
      concurrency: { type: 'string', short: 'c' },
      prefetch: { type: 'string' },
      queues: { type: 'string', short: 'q' },
      grace: { type: 'string' },
      lease: { type: 'string' },
      'connect-timeout': { type: 'string' },
      'until-idle': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const number = (name: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!(parsed > 0)) throw new FileProcessingError(`--${name} must be a positive number (got ${value})`, 'USAGE');
    return parsed;
  };
  const seconds = (name: string, value: string) => {
    const parsed = Number(value);
    if (!(parsed >= 0)) throw new FileProcessingError(`--${name} must be 0 or more seconds (got ${value})`, 'USAGE');
    return parsed;
  };
  const running = await runWorker({
    ...(values.concurrency ? { concurrency: number('concurrency', values.concurrency) } : {}),
    ...(values.prefetch ? { prefetch: number('prefetch', values.prefetch) } : {}),
    ...(values.queues ? { queues: values.queues.split(',').map((queue) => queue.trim()) } : {}),
    ...(values.grace ? { graceMs: (number('grace', values.grace) ?? 30) * 1000 } : {}),
    ...(values.lease ? { leaseMs: (number('lease', values.lease) ?? 30) * 1000 } : {}),
    ...(values['connect-timeout'] !== undefined
      ? { connectTimeoutMs: seconds('connect-timeout', values['connect-timeout']) * 1000 }
      : {}),
    untilIdle: values['until-idle'] ?? false,
    startupSignal: startup.signal,
  });
  process.off('SIGTERM', early);
  process.off('SIGINT', early);
  if (stopRequested) await running.stop();
  await running.done;
  exitSoonAfterStop();
} catch (error) {
  // Told to stop while waiting for an unreachable database: that is a clean stop, not a failure.
  if (stopRequested) process.exit(0);
  console.error(`mediaforge-worker: ${(error as Error).message}`);
  process.exit(error instanceof FileProcessingError && error.code === 'USAGE' ? 2 : 1);
}
