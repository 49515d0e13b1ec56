/** Retry delays: exponential with jitter, so a burst of failures does not come back as a burst. */

export interface BackoffOptions {
  /** Delay before the second attempt, before jitter. Default 2 s. */
  baseMs?: number;
  /** Upper bound. Default 5 minutes. */
  maxMs?: number;
}

/**
 * The delay before the next attempt after `attempt` attempts: base × 2^(attempt−1), capped, then "equal jitter"
 * (half fixed, half random), so retries spread out but never come back sooner than half the nominal delay.
 * This is the only backoff formula in mediaforge: downloads, queue items, the worker's own database calls and the
 * storage drivers all wait by it (TASK_RETRY_BASE_SECONDS / TASK_RETRY_MAX_SECONDS document it for items).
 *
 * @example backoffMs(3, { baseMs: 1000, maxMs: 60_000 }) // 2000–4000
 */
export function backoffMs(
  attempt: number,
  { baseMs = 2000, maxMs = 300_000 }: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const nominal = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(nominal / 2 + random() * (nominal / 2));
}
