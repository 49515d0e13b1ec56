/** What happens to an item that ended: why its signal fired, what its error means, and the time-limit helpers. */
import {
  asTypedError,
  type BackoffOptions,
  backoffMs,
  type ClaimedItem,
  type Db,
  type ErrorCode,
  FileProcessingError,
  itemTimeouts,
  type Logger,
  type Outcome,
  retryItem,
  withDeadlockRetry,
} from '@mediaforge/core';
import type { Deadlines } from './deadlines.ts';
import type { Held } from './held.ts';

export type AbortKind = 'lost' | 'soft' | 'hard' | 'shutdown';

export class ItemAbort extends FileProcessingError {
  constructor(
    readonly kind: AbortKind,
    message: string,
    code: ErrorCode,
  ) {
    super(message, code);
  }
}

/** Record an outcome, retry later, hand back (shutdown), or drop silently (lost: cancelled or taken over). */
export type Decision = Outcome | 'drop' | 'release' | { retry: Outcome; delayMs: number };

/** What a thrown error (or the abort behind it: `abortReason`, undefined when none) means for the item. */
export function decide(item: ClaimedItem, abortReason: unknown, error: unknown, retry?: BackoffOptions): Decision {
  const reason = abortReason;
  if (reason instanceof ItemAbort) {
    if (reason.kind === 'lost') return 'drop';
    if (reason.kind === 'shutdown') return 'release';
    return { id: item.id, status: 'failed', code: reason.code, message: reason.message };
  }
  // A failed query arrives as drizzle's wrapper (SQL and parameters in its message): typed, transient or not.
  const { code, message, transient } = asTypedError(error);
  const failed: Outcome = { id: item.id, status: 'failed', code, message: message.slice(0, 4000) };
  if (transient && item.attempts < item.maxAttempts) {
    return { retry: failed, delayMs: backoffMs(item.attempts, retry) };
  }
  return failed;
}

/** Waits for the promises to settle, at most `ms`; the timer never outlives the wait (it would hold the process). */
export async function settledWithin(promises: Promise<unknown>[], ms: number): Promise<void> {
  if (promises.length === 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.allSettled(promises),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

/** The promise's value if it settles within `ms`, else (or on rejection) `fallback`. */
export async function valueWithin<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise.catch(() => fallback),
      new Promise<T>((resolve) => {
        timer = setTimeout(() => resolve(fallback), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function formatMs(ms: number): string {
  return ms >= 60_000 ? `${(ms / 60_000).toFixed(ms % 60_000 === 0 ? 0 : 1)} min` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Watches both time limits of `held` in `deadlines`. The task's own limits (`--soft-timeout`, `--timeout`) apply where
 * it set them, the worker's otherwise.
 */
export function armTimeLimits(
  held: Held,
  worker: { softTimeoutMs: number; hardTimeoutMs: number },
  deadlines: Deadlines,
): void {
  const { softTimeoutMs, hardTimeoutMs } = itemTimeouts(held.item.options, worker);
  held.limits = { softTimeoutMs, hardTimeoutMs };
  deadlines.add(held, softTimeoutMs, hardTimeoutMs);
}

/** The soft limit passed: the handler is asked to stop (its signal aborts). */
export function softStop(held: Held): void {
  const message = `the item ran past the soft time limit (${formatMs(held.limits?.softTimeoutMs ?? 0)}) and was stopped`;
  held.abort(new ItemAbort('soft', message, 'TASK_SOFT_TIMEOUT'));
}

/** The hard limit passed: the item fails now, whatever its handler does later. */
export function hardStop(held: Held, fail: (outcome: Outcome) => void): void {
  const limit = formatMs(held.limits?.hardTimeoutMs ?? 0);
  const error = new ItemAbort(
    'hard',
    `the item ran past the hard time limit (${limit}); its result is discarded`,
    'TASK_TIMEOUT',
  );
  held.abort(error);
  fail({ id: held.item.id, status: 'failed', code: error.code, message: error.message });
}

/** Puts a failed attempt back in the queue after its delay; a failure to do so is logged (the lease brings it back). */
export async function scheduleRetry(
  db: Db,
  workerId: string,
  held: Held,
  decision: { retry: Outcome; delayMs: number },
): Promise<void> {
  const { retry, delayMs } = decision;
  const input = {
    workerId,
    id: held.item.id,
    delayMs,
    code: retry.code ?? 'INTERNAL_ERROR',
    message: retry.message ?? '',
  };
  await withDeadlockRetry(() => retryItem(db, input)).catch((error) =>
    held.logger.error({ err: error }, 'could not schedule the retry; the lease will bring it back'),
  );
}

/** An outcome about to be recorded, in the log: `item done` at info (built only when logged), `item failed` at warn. */
export function logOutcome(held: Held, outcome: Outcome, ms: number, logger: Logger): void {
  if (outcome.status !== 'succeeded') {
    held.logger.warn({ ms, outcome: 'failed', code: outcome.code, err: outcome.message }, 'item failed');
  } else if (logger.isLevelEnabled('info')) held.logger.info({ ms, outcome: 'succeeded' }, 'item done');
}
