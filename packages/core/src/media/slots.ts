/**
 * Bounded concurrency with a bounded queue, served fairly by owner. Past the queue, work is refused at once with a
 * retryable OverloadedError instead of piling up: a burst of hostile files costs a 503 and Retry-After, not the
 * process. Waiting work is served round-robin over owners (a user id or API key), so one owner's queue of heavy
 * images delays another owner's image by at most the decodes already running, not by the whole queue.
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
  /**
   * Work one owner may have waiting (default `queue`), so one owner cannot fill the queue for everyone. Work with no
   * owner (the operator's: CLI, admin keys) is bounded by `queue` only.
   */
  queuePerOwner?: number;
  retryAfterSeconds: number;
}

/** The owner of work that names none (the CLI, admin keys, the library used directly): one shared turn. */
export const NO_OWNER = '';

export interface Slots {
  /**
   * Runs `work` in a slot, waiting for one if the queue has room; waiting work is served round-robin by `owner`.
   * `work` may give its slot up before it ends (`leave`, e.g. a download done while its file is stored).
   * @throws OverloadedError when the queue has no room.
   */
  run<T>(work: (leave: () => void) => Promise<T>, owner?: string): Promise<T>;
  readonly active: number;
  readonly waiting: number;
}

export function createSlots(options: SlotsOptions): Slots {
  let active = 0;
  let waiting = 0;
  // Insertion order is the round-robin order: an owner served goes to the back if it still has work waiting.
  const queues = new Map<string, (() => void)[]>();
  const acquire = async (owner: string) => {
    if (active < options.limit) {
      active += 1;
      return;
    }
    const own = queues.get(owner);
    const ownLimit = owner === NO_OWNER ? options.queue : (options.queuePerOwner ?? options.queue);
    if (waiting >= options.queue || (own?.length ?? 0) >= ownLimit) {
      throw new OverloadedError(options.name, options.retryAfterSeconds);
    }
    waiting += 1;
    // A released slot passes straight to the next waiter, so `active` does not change.
    await new Promise<void>((resolve) => {
      if (own) own.push(resolve);
      else queues.set(owner, [resolve]);
    });
  };
  const release = () => {
    const next = queues.entries().next();
    if (next.done) {
      active -= 1;
      return;
    }
    const [owner, own] = next.value;
    const resolve = own.shift() as () => void;
    queues.delete(owner);
    if (own.length > 0) queues.set(owner, own);
    waiting -= 1;
    resolve();
  };
  return {
    async run(work, owner = NO_OWNER) {
      await acquire(owner);
      let held = true;
      const leave = () => {
        if (!held) return;
        held = false;
        release();
      };
      try {
        return await work(leave);
      } finally {
        leave();
      }
    },
    get active() {
      return active;
    },
    get waiting() {
      return waiting;
    },
  };
}
