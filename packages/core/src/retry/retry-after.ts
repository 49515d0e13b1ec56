/** A server's `Retry-After`, honoured in place of our own backoff when it sends one we can read. */
import { type BackoffOptions, backoffMs } from './backoff.ts';

/** `Retry-After` in milliseconds from now: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null | undefined, now = Date.now()): number | undefined {
  if (!header?.trim()) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}

export interface RetryDelayOptions extends BackoffOptions {
  /** Longest wait a server may ask for; a longer `Retry-After` means "give up now". Default 120 s. */
  maxRetryAfterMs?: number;
  random?: () => number;
  now?: number;
}

/**
 * How long to wait before the next attempt: what the server asked for, else our backoff. `undefined` when the
 * server asks for longer than `maxRetryAfterMs`: holding a slot that long is worse than failing (transiently)
 * and letting the queue try later.
 */
export function retryDelayMs(
  attempt: number,
  retryAfter: string | null | undefined,
  { maxRetryAfterMs = 120_000, random, now, ...backoff }: RetryDelayOptions = {},
): number | undefined {
  const asked = parseRetryAfter(retryAfter, now);
  if (asked === undefined) return backoffMs(attempt, backoff, random);
  return asked > maxRetryAfterMs ? undefined : asked;
}
