/**
 * Queue: burn-down of N no-op jobs by 2 worker processes × 24 concurrency on one PostgreSQL, timed from the first
 * job's start to the last one's (graphile-worker's perfTest method: bulk insert first, then start the workers), and
 * enqueue → start latency over sequential single jobs. mediaforge against pg-boss 12 and graphile-worker 0.18, each
 * in the same run on a fresh database; then mediaforge and pg-boss on embedded PGlite (one process, it allows one).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestPostgres } from '@mediaforge/core/testing';
import postgres from 'postgres';
import { type Benchmark, fixed, median, percentile } from './lib.ts';
import { drained, watch } from './queue-progress.ts';

const CHILD = join(import.meta.dir, 'queue.child.ts');
const SYSTEMS = ['mediaforge', 'mediaforge-prefetch', 'pg-boss', 'graphile-worker', 'graphile-worker-batched'] as const;
export type System = (typeof SYSTEMS)[number];

/** Jobs not yet done, per system (bench/queue-cpu.ts uses it too). */
export const REMAINING: Record<System, string> = {
  mediaforge: `select count(*)::int as n from task_items where status in ('queued', 'running')`,
  'mediaforge-prefetch': `select count(*)::int as n from task_items where status in ('queued', 'running')`,
  'pg-boss': `select count(*)::int as n from pgboss.job where name = 'bench' and state < 'completed'`,
  'graphile-worker': 'select count(*)::int as n from graphile_worker._private_jobs',
  'graphile-worker-batched': 'select count(*)::int as n from graphile_worker._private_jobs',
};

interface WorkResult {
  first: number;
  last: number;
  count: number;
}

async function child<T>(args: string[]): Promise<T> {
  const proc = Bun.spawn(['bun', CHILD, ...args], { stdout: 'pipe', stderr: 'inherit' });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  if (code !== 0) throw new Error(`queue.child.ts ${args.join(' ')} exited with ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as T;
}

/** Bulk insert, then two worker processes; seconds from the first job's start to the table showing none left. */
export async function burnDown(
  system: System,
  jobs: number,
  concurrency: number,
): Promise<{ seconds: number; count: number }> {
  const database = await createTestPostgres();
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  try {
    await child(['setup', system, database.url, String(jobs)]);
    const workers = [0, 1].map(() =>
      watch(
        Bun.spawn(['bun', CHILD, 'work', system, database.url, String(concurrency)], {
          stdout: 'pipe',
          stderr: 'inherit',
        }),
      ),
    );
    // The end is the last completion as the database sees it: batched completions count when they land.
    const end = await drained(
      workers,
      jobs,
      async () => (await sql.unsafe<{ n: number }[]>(REMAINING[system]))[0]?.n ?? -1,
      Date.now() + 15 * 60_000,
    );
    for (const worker of workers) worker.proc.kill('SIGTERM');
    const results = await Promise.all(
      workers.map(async (worker) => {
        await Promise.all([worker.closed, worker.proc.exited]);
        // A worker stopped while Bun was still loading its modules (the other burnt the batch down first, seen on a
        // loaded machine) says nothing and ran nothing; one killed mid-work shows as jobs missing below.
        const last = JSON.parse(worker.lastLine || '{}') as Partial<WorkResult>;
        return { first: last.first ?? 0, last: last.last ?? 0, count: last.count ?? 0 };
      }),
    );
    const active = results.filter((r) => r.count > 0);
    const first = Math.min(...active.map((r) => r.first));
    return { seconds: (end - first) / 1000, count: results.reduce((sum, r) => sum + r.count, 0) };
  } finally {
    await sql.end({ timeout: 1 });
    await database.drop();
  }
}

export async function latency(system: System, samples: number): Promise<number[]> {
  const database = await createTestPostgres();
  try {
    await child(['setup', system, database.url, '0']);
    return (await child<{ samples: number[] }>(['latency', system, database.url, String(samples)])).samples;
  } finally {
    await database.drop();
  }
}

async function pgliteBurnDown(system: System, jobs: number, concurrency: number) {
  const dir = mkdtempSync(join(tmpdir(), 'mediaforge-bench-pglite-'));
  try {
    const r = await child<WorkResult>(['both', system, `pglite:${dir}`, String(concurrency), String(jobs)]);
    return { seconds: (r.last - r.first) / 1000, count: r.count };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const queue: Benchmark = {
  name: 'queue',
  title: 'Queue: burn-down and enqueue → start latency',
  async run({ smoke }) {
    const jobs = smoke ? 300 : 100_000;
    const pgliteJobs = smoke ? 100 : 20_000;
    const reps = smoke ? 1 : 3;
    const samples = smoke ? 20 : 1000;
    const concurrency = 24;
    const results: Record<string, { seconds: number[]; counts: number[]; latencyMs: number[] }> = {};
    for (let rep = 0; rep < reps; rep++) {
      for (const system of SYSTEMS) {
        console.error(`  ${system} burn-down ${rep + 1}/${reps}`);
        const r = await burnDown(system, jobs, concurrency);
        results[system] ??= { seconds: [], counts: [], latencyMs: [] };
        results[system].seconds.push(r.seconds);
        results[system].counts.push(r.count);
      }
    }
    for (const system of SYSTEMS) {
      console.error(`  ${system} latency`);
      (results[system] as { latencyMs: number[] }).latencyMs = await latency(system, samples);
    }
    const pglite: Record<string, { seconds: number[]; counts: number[] }> = {};
    for (let rep = 0; rep < reps; rep++) {
      for (const system of ['mediaforge', 'pg-boss'] as const) {
        console.error(`  ${system} on PGlite ${rep + 1}/${reps}`);
        const r = await pgliteBurnDown(system, pgliteJobs, concurrency);
        pglite[system] ??= { seconds: [], counts: [] };
        pglite[system].seconds.push(r.seconds);
        pglite[system].counts.push(r.count);
      }
    }
    const rate = (seconds: number[], n: number) => n / median(seconds);
    const ours = rate(results.mediaforge?.seconds ?? [], jobs);
    const oursPrefetch = rate(results['mediaforge-prefetch']?.seconds ?? [], jobs);
    const oursPglite = rate(pglite.mediaforge?.seconds ?? [], pgliteJobs);
    /** One table row; `vs` are mediaforge's rates to divide by this system's (empty cells where not measured). */
    const row = (
      system: string,
      database: string,
      n: number,
      r: { seconds: number[]; counts: number[]; latencyMs?: number[] },
      vs: (number | undefined)[],
    ) => [
      system,
      database,
      String(n),
      fixed(median(r.seconds), 2),
      fixed(rate(r.seconds, n), 0),
      ...vs.map((theirs) => (theirs === undefined ? '' : fixed(theirs / rate(r.seconds, n), 2))),
      r.latencyMs ? fixed(percentile(r.latencyMs, 50), 1) : '',
      r.latencyMs ? fixed(percentile(r.latencyMs, 99), 1) : '',
      r.counts.every((c) => c >= n) ? 'yes' : `NO (${r.counts.join(', ')})`,
    ];
    const rows = [
      ...SYSTEMS.map((system) =>
        row(system, 'PostgreSQL', jobs, results[system] as (typeof results)[string], [ours, oursPrefetch]),
      ),
      ...(['mediaforge', 'pg-boss'] as const).map((system) =>
        row(system, 'PGlite', pgliteJobs, pglite[system] as (typeof pglite)[string], [oursPglite, undefined]),
      ),
    ];
    const p50 = percentile(results.mediaforge?.latencyMs ?? [], 50);
    const graphileP50 = percentile(results['graphile-worker']?.latencyMs ?? [], 50);
    // Like against like: defaults against defaults, local batching against local batching.
    const vsBoss = ours / rate(results['pg-boss']?.seconds ?? [], jobs);
    const vsGraphile = Math.min(
      ours / rate(results['graphile-worker']?.seconds ?? [], jobs),
      oursPrefetch / rate(results['graphile-worker-batched']?.seconds ?? [], jobs),
    );
    return {
      results: { jobs, pgliteJobs, reps, concurrency, postgres: results, pglite },
      pass: vsBoss >= 5 && vsGraphile >= 1 && p50 <= graphileP50,
      table: [
        [
          'queue',
          'database',
          'jobs',
          'burn-down s (median)',
          'jobs/s',
          'mediaforge ÷ this',
          'mediaforge --prefetch 500 ÷ this',
          'latency p50 ms',
          'latency p99 ms',
          'all jobs ran',
        ],
        ...rows,
      ],
      notes: [
        `Targets: burn-down ≥ 5× pg-boss (${fixed(vsBoss, 2)}×) and ≥ graphile-worker, defaults against defaults and \`--prefetch 500\` against its \`localQueue.size: 500\` (worst ${fixed(vsGraphile, 3)}×); mediaforge's p50 latency ≤ graphile-worker's (${fixed(p50, 3)} against ${fixed(graphileP50, 3)} ms).`,
        `Burn-down: ${jobs} no-op jobs bulk-inserted, then 2 worker processes × ${concurrency} concurrency, timed from the first handler start until the database shows no job left (median of ${reps}). The database is asked only once the work processes report that every job has started (then every 10 ms): counting the jobs left scans the job table, 35–79 ms a query at 100,000 jobs for each system, and asking every 50 ms throughout kept half a core busy in every run. PGlite: ${pgliteJobs} jobs, one process × ${concurrency} (PGlite allows one process).`,
        'Settings: mediaforge defaults (batch claim = free slots, LISTEN/NOTIFY); mediaforge-prefetch adds `prefetch: 500` (claims up to 500 ahead of free slots). pg-boss 12.35.0: `useListenNotify`, queue `notify: true`, `localConcurrency: 2, batchSize: 12, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5` (faster than `localConcurrency: 24` with single jobs). graphile-worker 0.18.0: `concurrency: 24` with defaults; "batched" adds `localQueue.size: 500, completeJobBatchDelay: 0` from its performance guide.',
        `Latency: ${samples} sequential jobs (after 20 warm-up), each enqueued only after the previous one started; measured from before the enqueue call to the handler's first line, in one process.`,
      ],
    };
  },
};
