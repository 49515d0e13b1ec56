/**
 * Per-task routing and limits: the queue a kind goes to when the caller names none, and the time limits and
 * concurrency cap a task may set for itself. Stored in the task's options (`limits`), read by every worker.
 */
import { MAX_TIMER_MS } from '../config/env-schema.ts';
import type { TaskKind } from '../db/queue-schema.ts';
import { FileProcessingError } from '../errors.ts';
import type { Scope } from '../scope.ts';

/** Queues the seed's workers serve (`--queues file_processing,maintenance,optimization`). */
export const KIND_QUEUES: Partial<Record<TaskKind, string>> = {
  maintenance: 'maintenance',
  optimization: 'optimization',
};

/** What a worker serves when started without `--queues`: every queue a built-in kind goes to by default. */
export const DEFAULT_WORKER_QUEUES = ['default', 'maintenance', 'optimization'] as const;

/** The most items of one task that may run at once, across every worker. */
export const MAX_CONCURRENT_LIMIT = 1000;

export interface TaskLimits {
  /** The item's signal aborts after this; overrides TASK_SOFT_TIMEOUT_MINUTES for this task. */
  softTimeoutMs?: number;
  /** The item fails with TASK_TIMEOUT after this; overrides TASK_TIMEOUT_MINUTES for this task. */
  timeoutMs?: number;
  /** Items of this task running at once across all workers. */
  maxConcurrent?: number;
}

/** The queue a task goes to when the caller names none. */
export function defaultQueueFor(kind: TaskKind): string {
  return KIND_QUEUES[kind] ?? 'default';
}

/**
 * Refuses (OPTION_NOT_ALLOWED) a user's task routed onto a queue a built-in kind owns (`maintenance`, `optimization`)
 * unless it is that kind's own: workers serve those queues for the operator's work, and a user's tasks there would
 * skip past every other user's in `default`. Admins (an all-users scope) may route anywhere.
 */
export function checkQueueFor(kind: TaskKind, queue: string | undefined, scope: Scope): void {
  if (queue === undefined || scope.all || queue === defaultQueueFor(kind)) return;
  if (Object.values(KIND_QUEUES).includes(queue)) {
    throw new FileProcessingError(
      `Queue "${queue}" is reserved for ${queue} tasks; only an admin may route other tasks onto it.`,
      'OPTION_NOT_ALLOWED',
      { details: { option: 'queue', queue } },
    );
  }
}

/** Validates limits (the caller's own; operator bounds for non-admins are checked by the API). @throws INVALID_TASK */
export function checkTaskLimits(limits: TaskLimits): TaskLimits {
  const out: TaskLimits = {};
  for (const name of ['softTimeoutMs', 'timeoutMs'] as const) {
    const value = limits[name];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 1000 || value > MAX_TIMER_MS) {
      throw invalid(`${name} must be a whole number of milliseconds from 1000 to ${MAX_TIMER_MS} (got ${value}).`);
    }
    out[name] = value;
  }
  if (out.softTimeoutMs !== undefined && out.timeoutMs !== undefined && out.softTimeoutMs >= out.timeoutMs) {
    throw invalid(`the soft timeout (${out.softTimeoutMs} ms) must be shorter than the timeout (${out.timeoutMs} ms).`);
  }
  const cap = limits.maxConcurrent;
  if (cap !== undefined) {
    if (!Number.isInteger(cap) || cap < 1 || cap > MAX_CONCURRENT_LIMIT) {
      throw invalid(`maxConcurrent must be an integer from 1 to ${MAX_CONCURRENT_LIMIT} (got ${cap}).`);
    }
    out.maxConcurrent = cap;
  }
  return out;
}

/**
 * The time limits one item runs under: the task's own where it set them, the worker's otherwise. A task that only
 * shortens the hard limit below the worker's soft one gets a soft limit just under it, so the signal still comes first.
 */
export function itemTimeouts(
  options: Record<string, unknown>,
  worker: { softTimeoutMs: number; hardTimeoutMs: number },
): { softTimeoutMs: number; hardTimeoutMs: number } {
  const limits = (options.limits ?? {}) as TaskLimits;
  const hardTimeoutMs = positive(limits.timeoutMs) ?? worker.hardTimeoutMs;
  const soft = positive(limits.softTimeoutMs) ?? worker.softTimeoutMs;
  return { softTimeoutMs: Math.min(soft, Math.max(1, hardTimeoutMs - 1)), hardTimeoutMs };
}

const positive = (value: unknown) => (typeof value === 'number' && value > 0 ? value : undefined);

function invalid(message: string): FileProcessingError {
  return new FileProcessingError(message, 'INVALID_TASK');
}
