/** Runs a worker process from the settings: opens the database and store, starts, and stops cleanly on signals. */
import {
  backoffMs,
  createLogger,
  type Database,
  isTransientDatabaseFailure,
  type Logger,
  loadSettings,
  openDatabaseFromSettings,
  type Settings,
  TaskManager,
  WebhookDeliverer,
} from '@mediaforge/core';
import { type ObjectStore, openObjectStore } from '@mediaforge/storage';
import pkg from '../package.json' with { type: 'json' };
import { builtinHandlers } from './handlers.ts';
import { startScheduleTicker } from './schedule-ticker.ts';
import type { WorkerOptions } from './types.ts';
import { Worker } from './worker.ts';

export interface RunWorkerOptions
  extends Partial<
    Pick<
      WorkerOptions,
      'concurrency' | 'prefetch' | 'queues' | 'leaseMs' | 'graceMs' | 'pollMs' | 'id' | 'retry' | 'untilIdle'
    >
  > {
  settings?: Settings;
  logger?: Logger;
  /**
   * Share an open database (and store) instead of opening one: `mediaforge serve` runs its worker pool this way,
   * which is the only way on the single-process embedded database. A shared database is left open on stop.
   */
  database?: Database;
  store?: ObjectStore;
  /** Install SIGTERM/SIGINT handlers (default true): first signal drains, a second exits at once. */
  signals?: boolean;
  /**
   * How long to keep trying a database that cannot be reached at start-up (it may be restarting, or starting with
   * the worker). Default 60 s; 0 fails at once.
   */
  connectTimeoutMs?: number;
  /** Aborting gives up waiting for the database (a stop requested during start-up). */
  startupSignal?: AbortSignal;
  /** Fire due schedules from this worker (default true; any number of workers may). */
  schedules?: boolean;
}

export interface RunningWorker {
  worker: Worker;
  database: Database;
  /** Resolves when the worker has stopped and the database is closed. */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Starts a worker with the built-in handlers; see `mediaforge worker --help`. */
export async function runWorker(options: RunWorkerOptions = {}): Promise<RunningWorker> {
  const settings = options.settings ?? loadSettings();
  const logger = options.logger ?? createLogger({ level: settings.logLevel });
  // As everywhere: the embedded database migrates itself; PostgreSQL is migrated once by `mediaforge migrate`.
  const shared = options.database !== undefined;
  const database =
    options.database ??
    (await openPatiently(settings, logger, options.connectTimeoutMs ?? 60_000, options.startupSignal));
  const store = options.store ?? openObjectStore(settings);
  const closeDatabase = () => (shared ? Promise.resolve() : database.close());
  const leaseMs = options.leaseMs ?? 30_000;
  const worker = new Worker({
    database,
    logger,
    handlers: builtinHandlers({ db: database.db, store, settings, leaseMs }),
    leaseMs,
    softTimeoutMs: settings.taskSoftTimeoutMinutes * 60_000,
    hardTimeoutMs: settings.taskTimeoutMinutes * 60_000,
    retentionMs: settings.taskRetentionDays * 86_400_000,
    ...(settings.taskHistoryDays > 0 ? { historyMs: settings.taskHistoryDays * 86_400_000 } : {}),
    retry: settings.taskRetry,
    version: pkg.version,
    ...pick(options, ['concurrency', 'prefetch', 'queues', 'graceMs', 'pollMs', 'id', 'retry', 'untilIdle']),
  });
  // Webhook deliveries ride along with every worker: whichever worker is alive sends what is due.
  const webhooks = new WebhookDeliverer({
    db: database.db,
    workerId: worker.id,
    logger,
    allowHosts: settings.allowHosts,
    timeoutMs: settings.webhook.timeoutMs,
    retry: settings.webhook.retry,
    listen: (channel, onPayload) => database.listen(channel, onPayload),
  });
  try {
    await worker.start();
  } catch (error) {
    await closeDatabase();
    throw error;
  }
  await webhooks.start();
  const stopTicker =
    options.schedules === false
      ? () => {}
      : startScheduleTicker({
          db: database.db,
          manager: new TaskManager({ database, settings }),
          workerId: worker.id,
          logger,
          maxActiveTasksPerUser: settings.api.maxActiveTasksPerUser,
          ...(settings.quota.taskBytes ? { maxTaskBytesPerUser: settings.quota.taskBytes } : {}),
        });
  void worker.stopped.then(stopTicker);
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  let stopping: Promise<void> | undefined;
  const stop = () => {
    // A drain that fails (the database restarting under it) is still a stop: what the worker held comes back when
    // its leases expire. Left unhandled, the rejection would end the process with exit 1 instead of 0.
    stopping ??= Promise.all([worker.stop(), webhooks.stop({ flush: options.untilIdle ?? false })])
      .then(() => {})
      .catch((error: unknown) => {
        logger.warn(
          { workerId: worker.id, err: (error as Error).message },
          'drain incomplete; leases bring back the rest',
        );
      })
      .finally(() => closeDatabase().catch(() => {}))
      .finally(() => {
        removeSignals();
        resolveDone();
      });
    return stopping;
  };
  let signalled = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signalled += 1;
    if (signalled > 1) {
      logger.warn(
        { workerId: worker.id, signal },
        'second signal: exiting now; held items return when their leases expire',
      );
      process.exit(130);
    }
    logger.info({ workerId: worker.id, signal }, 'signal received: draining (send it again to exit at once)');
    void stop();
  };
  const removeSignals = () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
  void worker.stopped.then(stop);
  if (options.signals ?? true) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  return { worker, database, done, stop };
}

function pick<T extends object, K extends keyof T>(source: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}

/**
 * After a clean stop nothing should keep the process alive, but a database driver can leave a reconnect timer or a
 * socket behind when the server went away mid-run (seen with postgres.js after a PostgreSQL restart). This lets
 * the process exit anyway, shortly after: an unref'd timer that never holds the process up on its own.
 */
export function exitSoonAfterStop(graceMs = 1000): void {
  setTimeout(() => process.exit(), graceMs).unref();
}

/** Opens the database, retrying while it is unreachable (a transient error) for up to `timeoutMs`. */
async function openPatiently(
  settings: Settings,
  logger: Logger,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<Database> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await openDatabaseFromSettings(settings);
    } catch (error) {
      const transient = isTransientDatabaseFailure(error);
      if (!transient || signal?.aborted || Date.now() >= deadline) throw error;
      const delayMs = Math.min(backoffMs(attempt, { baseMs: 500, maxMs: 5000 }), Math.max(0, deadline - Date.now()));
      logger.warn({ err: (error as Error).message, attempt, retryInMs: delayMs }, 'database unreachable; retrying');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (signal?.aborted) throw error;
    }
  }
}
