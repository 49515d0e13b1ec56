/**
 * Child process of the queue benchmark. One process per role, so each queue runs as it would in production.
 *   setup   <system> <url> <jobs>         install the schema, bulk-insert <jobs> no-op jobs, print { seconds }
 *   work    <system> <url> <concurrency>  run a worker until SIGTERM, printing { ran } every 1,000 handler starts,
 *                                         then print { first, last, count } (epoch ms)
 *   latency <system> <url> <samples>      enqueue one job at a time and time enqueue → handler start, print { samples }
 * <system> is mediaforge, mediaforge-prefetch, pg-boss, graphile-worker or graphile-worker-batched. <url> is a PostgreSQL URL, or
 * `pglite:<dir>` for mediaforge and pg-boss on embedded PGlite (setup and work then run in one process: `both`).
 */
import { createLogger, openDatabase, TaskQueue } from '@mediaforge/core';
import { Worker } from '@mediaforge/worker';
import { PROGRESS_EVERY } from './queue-progress.ts';

const [mode = '', system = '', url = '', countArg = '0', extra = ''] = process.argv.slice(2);
const count = Number(countArg);
const now = () => performance.timeOrigin + performance.now();
const QUEUE = 'bench';

interface Runner {
  setup(jobs: number): Promise<void>;
  /** Starts working; `onJob` runs at the start of each job's handler. */
  work(concurrency: number, onJob: () => void): Promise<void>;
  enqueueOne(): Promise<void>;
  close(): Promise<void>;
}

async function mediaforge(prefetch = 0): Promise<Runner> {
  const database = await openDatabase(
    url.startsWith('pglite:') ? { dataDir: url.slice('pglite:'.length) } : { url, maxConnections: 30 },
  );
  let worker: Worker | undefined;
  const queue = new TaskQueue(database);
  return {
    async setup(jobs) {
      await database.migrate();
      const payloads = Array.from({ length: jobs }, (_, n) => ({ n }));
      await queue.enqueue({ kind: 'noop', queue: QUEUE, payloads });
    },
    async work(concurrency, onJob) {
      worker = new Worker({
        database,
        logger: createLogger({ level: 'silent' }),
        queues: [QUEUE],
        concurrency,
        prefetch,
        handlers: {
          noop: async () => {
            onJob();
            return {};
          },
        },
      });
      await worker.start();
    },
    async enqueueOne() {
      await queue.enqueue({ kind: 'noop', queue: QUEUE, payloads: [{}] });
    },
    async close() {
      await worker?.stop({ graceMs: 1000 });
      await database.close();
    },
  };
}

/** pg-boss on PGlite goes through its documented `db.executeSql` adapter. */
async function pgliteAdapter(dir: string) {
  const { PGlite } = await import('@electric-sql/pglite');
  const pg = new PGlite(dir);
  return {
    pg,
    db: {
      async executeSql(text: string, values?: unknown[]) {
        if (values && values.length > 0) return pg.query(text, values);
        const results = await pg.exec(text);
        return results.at(-1) ?? { rows: [] };
      },
    },
  };
}

async function pgBoss(): Promise<Runner> {
  const { PgBoss } = await import('pg-boss');
  const embedded = url.startsWith('pglite:') ? await pgliteAdapter(url.slice('pglite:'.length)) : undefined;
  const boss = new PgBoss(
    embedded
      ? { db: embedded.db, supervise: false, schedule: false }
      : { connectionString: url, max: 30, useListenNotify: true, supervise: false, schedule: false },
  );
  boss.on('error', (error) => console.error('pg-boss error', error));
  await boss.start();
  return {
    async setup(jobs) {
      await boss.createQueue(QUEUE, { notify: !embedded });
      for (let offset = 0; offset < jobs; offset += 5000) {
        const batch = Array.from({ length: Math.min(5000, jobs - offset) }, (_, i) => ({ data: { n: offset + i } }));
        await boss.insert(QUEUE, batch);
      }
    },
    async work(concurrency, onJob) {
      // Its fastest settings we found for many short jobs: batches that keep fetching while they come back full.
      const batched = extra !== 'single';
      await boss.work(
        QUEUE,
        batched
          ? {
              localConcurrency: 2,
              batchSize: Math.ceil(concurrency / 2),
              burstWhenBatchFull: true,
              pollingIntervalSeconds: 0.5,
            }
          : { localConcurrency: concurrency, batchSize: 1, pollingIntervalSeconds: 0.5 },
        async (jobs) => {
          for (const _ of jobs) onJob();
        },
      );
    },
    async enqueueOne() {
      await boss.send(QUEUE, {});
    },
    async close() {
      await boss.stop({ graceful: true, timeout: 2000 });
      await embedded?.pg.close();
    },
  };
}

async function graphileWorker(batched: boolean): Promise<Runner> {
  const { run, runMigrations, makeWorkerUtils } = await import('graphile-worker');
  const utils = await makeWorkerUtils({ connectionString: url });
  let runner: Awaited<ReturnType<typeof run>> | undefined;
  return {
    async setup(jobs) {
      await runMigrations({ connectionString: url });
      // Its bulk API (graphile_worker.add_jobs); one add_job per row took minutes for 100,000.
      for (let offset = 0; offset < jobs; offset += 5000) {
        const batch = Array.from({ length: Math.min(5000, jobs - offset) }, (_, i) => ({
          identifier: 'noop',
          payload: { n: offset + i },
        }));
        await utils.addJobs(batch);
      }
    },
    async work(concurrency, onJob) {
      runner = await run({
        connectionString: url,
        concurrency,
        noHandleSignals: true,
        logger: new (await import('graphile-worker')).Logger(() => () => {}),
        taskList: {
          noop: async () => {
            onJob();
          },
        },
        // The batching its performance guide recommends for many short jobs.
        preset: batched ? { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0 } } : {},
      });
    },
    async enqueueOne() {
      await utils.addJob('noop', {});
    },
    async close() {
      await runner?.stop();
      await utils.release();
    },
  };
}

async function open(): Promise<Runner> {
  if (system === 'mediaforge') return mediaforge();
  // The same 500 jobs held locally as graphile-worker's batched configuration.
  if (system === 'mediaforge-prefetch') return mediaforge(500);
  if (system === 'pg-boss') return pgBoss();
  if (system === 'graphile-worker') return graphileWorker(false);
  if (system === 'graphile-worker-batched') return graphileWorker(true);
  throw new Error(`unknown system ${system}`);
}

// A work process may be told to stop before it has opened anything (the other one burnt the whole batch down first,
// seen on a loaded machine): listen before anything else, so SIGTERM never meets its default action.
const finished = Promise.withResolvers<void>();
if (mode === 'work') process.on('SIGTERM', () => finished.resolve());
const runner = await open();
const print = (value: unknown) => console.log(JSON.stringify(value));

if (mode === 'setup') {
  const started = now();
  await runner.setup(count);
  print({ seconds: (now() - started) / 1000 });
  await runner.close();
} else if (mode === 'work' || mode === 'both') {
  let first = 0;
  let last = 0;
  let done = 0;
  const jobs = Number(extra) || 0;
  if (mode === 'both') await runner.setup(jobs);
  await runner.work(count, () => {
    const at = now();
    if (first === 0) first = at;
    last = at;
    done += 1;
    // Progress for the parent, which polls the database only once every job has started (queue.ts: drained).
    if (mode === 'work' && done % PROGRESS_EVERY === 0) print({ ran: done });
    if (mode === 'both' && done === jobs) finished.resolve();
  });
  await finished.promise;
  // Let the last completions reach the database before stopping.
  await Bun.sleep(200);
  await runner.close();
  print({ first, last, count: done });
  process.exit(0);
} else if (mode === 'latency') {
  let started: (() => void) | undefined;
  await runner.work(1, () => started?.());
  const samples: number[] = [];
  // Warm up connections and plans first.
  for (let i = 0; i < count + 20; i++) {
    const begun = Promise.withResolvers<number>();
    started = () => begun.resolve(now());
    const enqueued = now();
    await runner.enqueueOne();
    const at = await begun.promise;
    if (i >= 20) samples.push(at - enqueued);
  }
  await runner.close();
  print({ samples });
  process.exit(0);
} else {
  throw new Error(`unknown mode ${mode}`);
}
