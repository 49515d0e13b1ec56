/**
 * A per-origin cap on downloads in one process (DOWNLOAD_CONCURRENCY_PER_ORIGIN), like Celery's `rate_limit` for
 * one host: items for a busy origin wait for its slot while other origins proceed. Built on the process's slots.
 */
import { createSlots, type Slots } from '../media/slots.ts';

/** Waiting downloads per origin: the worker's own concurrency bounds it long before this. */
const WAITING_PER_ORIGIN = 100_000;

export interface OriginSlots {
  /** Runs `work` in one of `url`'s origin slots; `leave` gives the slot up early (the download is done). */
  run<T>(url: string, work: (leave: () => void) => Promise<T>): Promise<T>;
  /** Downloads running now for the origin of `url`. */
}

export function createOriginSlots(limit: number): OriginSlots {
  const byOrigin = new Map<string, Slots>();
  const originOf = (url: string) => {
    try {
      return new URL(url).origin;
    } catch {
      return url;
    }
  };
  return {
    async run(url, work) {
      const origin = originOf(url);
      let slots = byOrigin.get(origin);
      if (!slots) {
        slots = createSlots({
          name: `Downloads from ${origin}`,
          limit,
          queue: WAITING_PER_ORIGIN,
          retryAfterSeconds: 5,
        });
        byOrigin.set(origin, slots);
      }
      try {
        return await slots.run(work);
      } finally {
        // Forget idle origins, so a task over many hosts leaves nothing behind.
        if (slots.active === 0 && slots.waiting === 0) byOrigin.delete(origin);
      }
    },
  };
}
