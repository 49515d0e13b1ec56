/** Per-key token buckets: each key may burst up to its per-minute allowance, refilled continuously. */
import { ApiError } from './errors.ts';

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly refillPerMs: number;

  constructor(
    private readonly perMinute: number,
    private readonly maxKeys = 100_000,
  ) {
    this.refillPerMs = perMinute / 60_000;
  }

  /** Takes one token for `key`. @throws ApiError 429 with the seconds until one is available. */
  take(key: string, now = Date.now()): { remaining: number } {
    const bucket = this.refilled(key, now);
    const wait = this.secondsUntilToken(bucket.tokens);
    if (wait > 0) {
      this.buckets.set(key, bucket);
      throw new ApiError(429, 'RATE_LIMITED', `Rate limit of ${this.perMinute} requests per minute reached.`, {
        limitPerMinute: this.perMinute,
        retryAfterSeconds: wait,
      });
    }
    bucket.tokens -= 1;
    // Re-insert so the map's order is least recently used first; drop the oldest when it grows too large.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    return { remaining: Math.floor(bucket.tokens) };
  }

  /** Seconds until `key` has a token again (0: it has one now); takes nothing. */
  waitSeconds(key: string, now = Date.now()): number {
    const bucket = this.buckets.get(key);
    return bucket ? this.secondsUntilToken(this.refilled(key, now).tokens) : 0;
  }

  private refilled(key: string, now: number): { tokens: number; at: number } {
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * this.refillPerMs);
    bucket.at = now;
    return bucket;
  }

  private secondsUntilToken(tokens: number): number {
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / this.refillPerMs / 1000));
  }
}
