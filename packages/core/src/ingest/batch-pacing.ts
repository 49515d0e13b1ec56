/**
 * How a batch of URLs moves through one process. The caller's concurrency is what the origins see: that many URLs are
 * downloaded and checked at once. A file that is through (its bytes received, detected, validated and hashed) gives
 * its download place to the next URL and is stored beside it: its object written and synced, its record committed.
 * Storing waits on the disk and on the database's group commits (files.batcher.ts), which carry every file waiting
 * at the moment, so the more files are storing at once, the fewer round trips and syncs each one costs. With storing
 * inside the download place, 16 places held ~4 files per commit and the disk's syncs queued behind two threads: the
 * pipeline ran 30 ms per file, most of it waiting.
 *
 * Bounded: at most `STORING_PER_DOWNLOAD` files storing per download place, and the bodies they hold in memory
 * (small files stay in memory, decision 0052; larger ones are spooled to disk) at most `STORING_MEMORY_BYTES` in all
 * beyond one file's, so memory stays what the download places hold plus that budget.
 */

/** Files storing at once, per download place. */
export const STORING_PER_DOWNLOAD = 3;
/** Bytes of storing files' bodies held in memory, in all (one file is always let through). */
export const STORING_MEMORY_BYTES = 32 * 1024 * 1024;

/** One URL's way through: `downloaded` once its file is ready to store, `done` when it has finished either way. */
export interface PacingPass {
  /** Gives the download place up, once `bytesInMemory` fit beside the other storing files' (waits until they do). */
  downloaded(bytesInMemory: number): Promise<void>;
  /** Frees whatever the URL still holds. Safe to call twice. */
  done(): void;
}

export interface BatchPacing {
  /** How many URLs may be under way at once (downloading or storing): run that many loops. */
  readonly lanes: number;
  /** Waits for a download place. */
  start(): Promise<PacingPass>;
}

export function createBatchPacing(downloads: number, memoryBytes = STORING_MEMORY_BYTES): BatchPacing {
  let downloading = 0;
  let storingBytes = 0;
  const placeWaiters: (() => void)[] = [];
  let memoryWaiters: (() => void)[] = [];
  const freePlace = () => {
    const next = placeWaiters.shift();
    if (next) next();
    else downloading -= 1;
  };
  const freeMemory = (bytes: number) => {
    storingBytes -= bytes;
    const waiting = memoryWaiters;
    memoryWaiters = [];
    for (const wake of waiting) wake();
  };
  return {
    lanes: downloads * (1 + STORING_PER_DOWNLOAD),
    async start() {
      if (downloading < downloads) downloading += 1;
      // A freed place passes straight to the next waiter, so `downloading` does not change.
      else await new Promise<void>((resolve) => placeWaiters.push(resolve));
      let place = true;
      let held = 0;
      const giveUpPlace = () => {
        if (!place) return;
        place = false;
        freePlace();
      };
      return {
        async downloaded(bytesInMemory) {
          while (bytesInMemory > 0 && storingBytes > 0 && storingBytes + bytesInMemory > memoryBytes) {
            await new Promise<void>((resolve) => memoryWaiters.push(resolve));
          }
          storingBytes += bytesInMemory;
          held += bytesInMemory;
          giveUpPlace();
        },
        done() {
          giveUpPlace();
          if (held > 0) {
            const bytes = held;
            held = 0;
            freeMemory(bytes);
          }
        },
      };
    },
  };
}
