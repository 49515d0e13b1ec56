/** `mediaforge worker`: run a worker in this process until SIGTERM/SIGINT (or until idle). */
import { loadSettings } from '@mediaforge/core';
import { exitSoonAfterStop, runWorker } from '@mediaforge/worker';
import { defineCommand } from 'citty';
import { optionalIntArg } from '../args.ts';

export default defineCommand({
  meta: {
    name: 'worker',
    description:
      'Run a worker: take queued items (ingest, generate, maintenance, optimization), fire due schedules; SIGTERM/SIGINT drains it',
  },
  args: {
    concurrency: { type: 'string', description: 'Items processed at once (default 4)' },
    prefetch: {
      type: 'string',
      description: 'Items claimed ahead of free slots, for many short items (default 0; they show as running)',
    },
    queues: {
      type: 'string',
      description: 'Comma-separated queues to take items from (default: default,maintenance,optimization)',
    },
    lease: { type: 'string', description: 'Seconds a claimed item stays ours without a heartbeat (default 30)' },
    grace: { type: 'string', description: 'Seconds in-flight items get to finish on shutdown (default 30)' },
    'connect-timeout': {
      type: 'string',
      description: 'Seconds to keep retrying a database unreachable at start-up (default 60; 0 fails at once)',
    },
    'until-idle': { type: 'boolean', description: 'Exit once nothing is left to run' },
  },
  async run({ args }) {
    const concurrency = optionalIntArg(args.concurrency, 'concurrency', { max: 1024 });
    const prefetch = optionalIntArg(args.prefetch, 'prefetch', { min: 0, max: 10_000 });
    const lease = optionalIntArg(args.lease, 'lease', { min: 1, max: 3600 });
    const grace = optionalIntArg(args.grace, 'grace', { min: 0, max: 3600 });
    const connectTimeout = optionalIntArg(args['connect-timeout'], 'connect-timeout', { min: 0, max: 86_400 });
    const running = await runWorker({
      settings: loadSettings(),
      ...(concurrency ? { concurrency } : {}),
      ...(prefetch ? { prefetch } : {}),
      ...(args.queues ? { queues: args.queues.split(',').map((queue) => queue.trim()) } : {}),
      ...(lease ? { leaseMs: lease * 1000 } : {}),
      ...(grace !== undefined ? { graceMs: grace * 1000 } : {}),
      ...(connectTimeout !== undefined ? { connectTimeoutMs: connectTimeout * 1000 } : {}),
      untilIdle: args['until-idle'] ?? false,
    });
    await running.done;
    exitSoonAfterStop();
    return 0;
  },
});
