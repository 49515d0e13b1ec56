/** The housekeeping every worker does on a timer: idempotent, so no leader is needed. */
import {
  backoffMs,
  type Db,
  isTransientDatabaseFailure,
  type Logger,
  pruneFinished,
  pruneTaskHistory,
  reapExpiredLeases,
  registerWorker,
  type VacuumPolicy,
  vacuumTaskItemsIfDead,
} from '@mediaforge/core';
import type { WorkerOptions } from './types.ts';

/** Tries at registration while the database is unreachable: about 20 s with backoff, longer than a restart. */
const REGISTER_ATTEMPTS = 10;

/**
 * A worker started while PostgreSQL restarts (an orchestrator replacing it at that moment) waits for it rather than
 * exiting 1: registration is the first write, and a lost connection is worth a few more tries.
 */
export async function registerPatiently(db: Db, registration: Parameters<typeof registerWorker>[1]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await registerWorker(db, registration);
      return;
    } catch (error) {
      if (attempt >= REGISTER_ATTEMPTS || !isTransientDatabaseFailure(error)) throw error;
      await Bun.sleep(backoffMs(attempt, { baseMs: 200, maxMs: 3000 }));
    }
  }
}

/**
 * Deletes items of tasks finished more than `retentionMs` ago (their results are folded into the task first), and
 * with `historyMs`, the tasks themselves finished more than that ago (with all they hold).
 */
export async function prune(db: Db, retentionMs: number, logger: Logger, historyMs?: number): Promise<void> {
  try {
    const pruned = await pruneFinished(db, new Date(Date.now() - retentionMs));
    if (pruned.items > 0) logger.info(pruned, 'pruned finished items');
    if (historyMs !== undefined) {
      const tasks = await pruneTaskHistory(db, new Date(Date.now() - historyMs));
      if (tasks > 0) logger.info({ tasks }, 'deleted tasks past their history');
    }
  } catch (error) {
    logger.warn({ err: error }, 'pruning failed');
  }
}

/** Takes back items whose lease expired; true when any came back (there is work to claim). */
export async function reap(db: Db, logger: Logger): Promise<boolean> {
  try {
    const { requeued, failed } = await reapExpiredLeases(db);
    if (requeued + failed > 0) logger.warn({ requeued, failed }, 'took back items whose lease expired');
    return requeued > 0;
  } catch (error) {
    logger.warn({ err: error }, 'lease reaper failed');
    return false;
  }
}

let vacuuming = false;

/**
 * Vacuums `task_items` once its dead tuples pass the threshold, analyzes it once a tenth of it changed (see
 * vacuumTaskItemsIfDead). One at a time in this process; other workers' calls skip while one runs. True when it
 * vacuumed.
 */
export async function vacuumIfDead(db: Db, logger: Logger, policy: VacuumPolicy = {}): Promise<boolean> {
  if (vacuuming) return false;
  vacuuming = true;
  const started = performance.now();
  try {
    const check = await vacuumTaskItemsIfDead(db, policy);
    if (check.vacuumed || check.analyzed) {
      const what = check.vacuumed ? 'vacuumed' : 'analyzed';
      logger.info({ ...check, ms: Math.round(performance.now() - started) }, `${what} task_items`);
    }
    return check.vacuumed;
  } catch (error) {
    logger.warn({ err: error }, 'vacuuming task_items failed');
    return false;
  } finally {
    vacuuming = false;
  }
}

/**
 * Housekeeping while the worker runs: prune finished items (TASK_RETENTION_DAYS), and vacuum `task_items` past its
 * dead-tuple threshold, checked at once too: a worker started after a large enqueue finds it unanalyzed (decision 0047).
 */
export function housekeeping(
  options: Pick<WorkerOptions, 'retentionMs' | 'historyMs' | 'pruneEveryMs' | 'vacuum' | 'database'>,
  log: Logger,
  every: (ms: number, work: () => unknown) => void,
  running: () => boolean,
): void {
  const { db } = options.database;
  const { retentionMs, historyMs, pruneEveryMs = 3_600_000 } = options;
  const vacuum = options.vacuum ?? (options.database.kind === 'postgres' && {});
  if (retentionMs !== undefined) every(pruneEveryMs, () => running() && prune(db, retentionMs, log, historyMs));
  if (vacuum) {
    const check = () => running() && vacuumIfDead(db, log, vacuum);
    every(vacuum.everyMs ?? 10_000, check);
    void check();
  }
}
