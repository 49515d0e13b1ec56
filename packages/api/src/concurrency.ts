/** Per-key caps on work in flight (uploads streaming through this process): over the cap is a typed 429. */
import { ApiError } from './errors.ts';

export class ConcurrencyLimiter {
  private readonly running = new Map<string, number>();

  /** @param what names the work in the error ("uploads"). */
  constructor(
    private readonly limit: number,
    private readonly what: string,
  ) {}

  /**
   * Takes a slot for `key`; call the returned function once the work is done.
   * @throws ApiError 429 CONCURRENCY_LIMITED (with `retryAfterSeconds`) when the key already has `limit` running.
   */
  acquire(key: string): () => void {
    const now = this.running.get(key) ?? 0;
    if (now >= this.limit) throw concurrencyLimited(`${this.limit} ${this.what} at once per API key`, this.limit);
    this.running.set(key, now + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
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
