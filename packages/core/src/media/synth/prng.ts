/** A small deterministic PRNG (mulberry32): the same seed gives the same sample media everywhere. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Turns any string or number into a 32-bit seed. */
export function seedOf(seed: string | number | undefined): number {
  if (typeof seed === 'number') return seed >>> 0;
  return Number(Bun.hash.crc32(seed ?? 'mediaforge') >>> 0);
}

/** A pull-based stream of chunks from a generator, so only one chunk is ever in memory. */
export function streamFrom(chunks: Iterator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
  });
}
