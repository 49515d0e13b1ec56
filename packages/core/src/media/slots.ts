/**
 * Bounded concurrency with a bounded queue. Past the queue, work is refused at once with a retryable
 * OverloadedError instead of piling up: a burst of hostile files costs a 503 and Retry-After, not the process.
 */
import { FileProcessingError } from '../errors.ts';

/** Every slot is busy and the queue is full; the same request may succeed after `retryAfterSeconds`. */
export class OverloadedError extends FileProcessingError {
  constructor(
    what: string,
    readonly retryAfterSeconds: number,
  ) {
    super(
      `${what} is at capacity (every slot busy, the queue full); retry in ${retryAfterSeconds} s or lower the request rate.`,
      'OVERLOADED',
      { transient: true, details: { retryAfterSeconds } },
    );
  }
}

export interface SlotsOptions {
  /** Names the work in the error, e.g. "Image decoding". */
  name: string;
  /** Work running at once. */
  limit: number;
  /** Work allowed to wait for a slot; one more is refused. */
  queue: number;
  retryAfterSeconds: number;
}

export interface Slots {
  /** Runs `work` in a slot, waiting for one if the queue has room. @throws OverloadedError when it has none. */
  run<T>(work: () => Promise<T>): Promise<T>;
  readonly active: number;
  readonly waiting: number;
}

export function createSlots(options: SlotsOptions): Slots {
  let active = 0;
  const waiters: (() => void)[] = [];
  const acquire = async () => {
    if (active < options.limit) {
      active += 1;
      return;
    }
    if (waiters.length >= options.queue) throw new OverloadedError(options.name, options.retryAfterSeconds);
    // A released slot passes straight to the next waiter, so `active` does not change.
    await new Promise<void>((resolve) => waiters.push(resolve));
  };
  const release = () => {
    const next = waiters.shift();
    if (next) next();
    else active -= 1;
  };
  return {
    async run(work) {
      await acquire();
      try {
        return await work();
      } finally {
        release();
      }
    },
    get active() {
      return active;
    },
    get waiting() {
      return waiters.length;
    },
  };
}
