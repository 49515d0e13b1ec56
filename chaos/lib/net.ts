/** Small network helpers shared by the suite's servers. */
import { createServer } from 'node:net';

/** A port free on 127.0.0.1 right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A seeded pseudo-random generator (core's mulberry32): the same seed replays the same faults. */
export { prng as seededRandom } from '@mediaforge/core';

/** Counts events by kind (faults injected, outcomes seen), for the report. */
export class Tally {
  readonly counts: Record<string, number> = {};
  add(kind: string, by = 1): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + by;
  }
  get total(): number {
    return Object.values(this.counts).reduce((sum, n) => sum + n, 0);
  }
}

/** Waits for a teardown step at most `ms`, saying which one hung instead of hanging the suite. */
export async function settle(label: string, step: Promise<unknown> | undefined, ms = 10_000): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
  });
  const outcome = await Promise.race([Promise.resolve(step).catch(() => undefined), late]);
  clearTimeout(timer);
  if (outcome === 'late') console.error(`[chaos] teardown step "${label}" did not finish within ${ms} ms`);
}
