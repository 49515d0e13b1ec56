/**
 * Group commit for the file pipeline's per-file database work: calls made while a batch is in flight wait and go
 * together in the next one. An idle batcher runs a call at once (no waiting window, so one file alone is never
 * slowed); under load each round trip carries every file that reached it meanwhile, up to `maxBatch`.
 */

/** One item's outcome in a batch: its value, or the error that is its own (never a neighbour's). */
export type Settled<O> = { ok: true; value: O } | { ok: false; error: unknown };

export type Batcher<I, O> = (item: I) => Promise<O>;

/**
 * `run` gets the items in arrival order and returns one outcome per item, in the same order; when it throws, every
 * item of that batch fails with its error (so `run` should settle items one by one when a batch fails as a whole).
 */
export function createBatcher<I, O>(
  run: (items: readonly I[]) => Promise<readonly Settled<O>[]>,
  maxBatch = 64,
): Batcher<I, O> {
  let queue: { item: I; resolve: (value: O) => void; reject: (error: unknown) => void }[] = [];
  let running = false;
  const drain = async () => {
    running = true;
    try {
      while (queue.length > 0) {
        const batch = queue.slice(0, maxBatch);
        queue = queue.slice(maxBatch);
        let results: readonly Settled<O>[];
        try {
          results = await run(batch.map((entry) => entry.item));
        } catch (error) {
          for (const entry of batch) entry.reject(error);
          continue;
        }
        batch.forEach((entry, index) => {
          const result = results[index];
          if (!result) entry.reject(new Error('batch returned no outcome for an item'));
          else if (result.ok) entry.resolve(result.value);
          else entry.reject(result.error);
        });
      }
    } finally {
      running = false;
    }
  };
  return (item) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!running) void drain();
    });
}

/** Runs `fn` for each item on its own, settling each (the fallback when a batch cannot be sent whole). */
export async function settleEach<I, O>(
  items: readonly I[],
  fn: (item: I, index: number) => Promise<O>,
): Promise<Settled<O>[]> {
  return Promise.all(
    items.map((item, index) =>
      fn(item, index).then(
        (value): Settled<O> => ({ ok: true, value }),
        (error: unknown): Settled<O> => ({ ok: false, error }),
      ),
    ),
  );
}

/** One batcher per database handle (tests and the API may hold several); made on first use. */
export function perDatabase<D extends object, B>(make: (db: D) => B): (db: D) => B {
  const made = new WeakMap<D, B>();
  return (db) => {
    let found = made.get(db);
    if (!found) {
      found = make(db);
      made.set(db, found);
    }
    return found;
  };
}
