/** What a worker is given: its options, and the handler signature items run through. */
import type {
  BackoffOptions,
  ClaimedItem,
  Database,
  FinishedTask,
  Logger,
  TaskKind,
  VacuumPolicy,
} from '@mediaforge/core';

export interface ItemContext {
  /** Aborts on cancel, lost lease, soft timeout and shutdown; handlers pass it to everything they await. */
  signal: AbortSignal;
  logger: Logger;
  /** Stored with the next heartbeat (bytes downloaded, …), shown by `jobs status`. */
  reportProgress(progress: Record<string, unknown>): void;
  /**
   * The item's part that holds a slot is done (an ingest's download): it gives its slot to the next item and finishes
   * beside it, still running and leased. Waits while the storing items' bodies in memory leave no room for its
   * `bytesInMemory`; keeps the slot when the worker's storing places are full (storing.ts).
   */
  yieldSlot(bytesInMemory: number): Promise<void>;
}

/** Runs one item; returns what the item's result records. Throw a typed error (with `transient`) to fail. */
export type Handler = (item: ClaimedItem, ctx: ItemContext) => Promise<Record<string, unknown>>;

export type WorkerState = 'idle' | 'running' | 'draining' | 'stopped';

export interface WorkerOptions {
  database: Pick<Database, 'db' | 'kind' | 'listen'>;
  handlers: Partial<Record<TaskKind, Handler>>;
  logger: Logger;
  id?: string;
  /** Queues to take items from. Default: `default`, `maintenance` and `optimization` (DEFAULT_WORKER_QUEUES). */
  queues?: string[];
  /** Items run at once. Default 4. */
  concurrency?: number;
  /** Items claimed per round trip at most. Default: concurrency + prefetch. */
  batchSize?: number;
  /**
   * Items claimed ahead of free slots and kept (leased) locally, so a freed slot starts the next item without a
   * round trip. Raises throughput for many short items; those items show as running while they wait. Default 0.
   */
  prefetch?: number;
  /** Lease on a claimed item; renewed by heartbeats. Default 30 s. */
  leaseMs?: number;
  /** Default min(3 s, lease / 3). */
  heartbeatMs?: number;
  /** Idle poll when no NOTIFY comes. Default 2 s on PostgreSQL, 250 ms on PGlite. */
  pollMs?: number;
  /** The item's signal aborts after this (TASK_SOFT_TIMEOUT_MINUTES). */
  softTimeoutMs?: number;
  /** The item is failed and its lease dropped after this (TASK_TIMEOUT_MINUTES). */
  hardTimeoutMs?: number;
  retry?: BackoffOptions;
  /** How often this worker takes back expired leases. Default: lease / 2. */
  reapMs?: number;
  /** Prune items of tasks finished longer ago than this (TASK_RETENTION_DAYS); undefined: never. */
  retentionMs?: number;
  /** Delete tasks finished longer ago than this, with all they hold (TASK_HISTORY_DAYS); undefined: never. */
  historyMs?: number;
  /** How often to prune. Default 1 hour (each worker; pruning is idempotent). */
  pruneEveryMs?: number;
  /**
   * Check `task_items` for dead tuples every `everyMs` and VACUUM it past `minDead + scaleFactor × live` (decision
   * 0044). Default every 10 s on PostgreSQL, 50,000 + 5%; never on PGlite. `false`: never.
   */
  vacuum?: false | ({ everyMs?: number } & VacuumPolicy);
  /** Time in-flight items get to finish on a graceful stop before they are handed back. Default 30 s. */
  graceMs?: number;
  version?: string;
  /** Stop by itself once nothing is runnable and nothing is in flight (batch use, cron, tests). */
  untilIdle?: boolean;
  /** Called when an outcome this worker recorded finished a task. */
  onTaskFinished?: (task: FinishedTask) => void;
}

/** The worker's options with their defaults filled in. */
export type WorkerTimings = Required<
  Pick<
    WorkerOptions,
    | 'batchSize'
    | 'prefetch'
    | 'leaseMs'
    | 'heartbeatMs'
    | 'pollMs'
    | 'softTimeoutMs'
    | 'hardTimeoutMs'
    | 'reapMs'
    | 'graceMs'
  >
>;
