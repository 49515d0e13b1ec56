/**
 * Caps on work in flight (uploads streaming through this process): per key, a typed 429; for the whole process, a
 * 503 SERVER_BUSY, so that many keys together cannot hold more than `total` bodies (and their buffers) at once.
 */
import { ApiError } from './errors.ts';

export class ConcurrencyLimiter {
  private readonly running = new Map<string, number>();
  private all = 0;

  /**
   * @param what names the work in the error ("uploads").
   * @param total the process-wide cap across keys (unlimited when left out).
   */
  constructor(
    private readonly limit: number,
    private readonly what: string,
    private readonly total = Number.POSITIVE_INFINITY,
  ) {}

  /** Slots taken now, across keys (for /metrics and tests). */
  get inFlight(): number {
    return this.all;
  }

  /**
   * Takes a slot for `key`; call the returned function once the work is done.
   * @throws ApiError 429 CONCURRENCY_LIMITED (with `retryAfterSeconds`) when the key already has `limit` running, or
   *   503 SERVER_BUSY when the process has `total` running.
   */
  acquire(key: string): () => void {
    const now = this.running.get(key) ?? 0;
    if (now >= this.limit) throw concurrencyLimited(`${this.limit} ${this.what} at once per API key`, this.limit);
    if (this.all >= this.total) {
      throw new ApiError(
        503,
        'SERVER_BUSY',
        `This server is running ${this.total} ${this.what} at once (all keys together); retry shortly.`,
        { limit: this.total, retryAfterSeconds: 1 },
      );
    }
    this.running.set(key, now + 1);
    this.all += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.all -= 1;
      const left = (this.running.get(key) ?? 1) - 1;
      if (left <= 0) this.running.delete(key);
      else this.running.set(key, left);
    };
  }
}

/** The 429 for a concurrency cap; the error boundary turns `retryAfterSeconds` into `Retry-After`. */
export function concurrencyLimited(limitText: string, limit: number, retryAfterSeconds = 5): ApiError {
  return new ApiError(429, 'CONCURRENCY_LIMITED', `Limit reached: ${limitText}. Retry when one has finished.`, {
    limit,
    retryAfterSeconds,
  });
}
