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

/**
 * `body`, calling `release` once when it has been read to its end, fails or is cancelled (a client that disconnects):
 * a download holds its slot for as long as its bytes are being sent, not just until its headers are.
 */
export function releasedWith(body: ReadableStream<Uint8Array>, release: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let released = false;
  const once = () => {
    if (released) return;
    released = true;
    unreleased.unregister(token);
    release();
  };
  const token = {};
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            once();
            controller.close();
          } else controller.enqueue(value);
        } catch (error) {
          once();
          controller.error(error);
        }
      },
      async cancel(reason) {
        once();
        await reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  // A body dropped unread (only a caller inside the process can; a server sends or cancels every body) would hold
  // its slot for good, and its key could download nothing more: it is given back when the stream is collected.
  unreleased.register(stream, once, token);
  return stream;
}

const unreleased = new FinalizationRegistry<() => void>((release) => release());
