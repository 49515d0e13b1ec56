/**
 * How the queue benchmarks see a burn-down end without loading the database while it runs. Counting the jobs left
 * took 35–79 ms a query at 100,000 jobs for every system (a scan of the whole job table), and polled every 50 ms it
 * kept half a core of these two busy during every run. Each work process now prints `{ ran }` every PROGRESS_EVERY
 * handler starts, and the parent asks the database only once every job has started.
 */
import type { Subprocess } from 'bun';

export const PROGRESS_EVERY = 1000;

/** A work process's stdout as it comes: handler starts so far and its last line (the result it prints at exit). */
export interface Watched {
  proc: Subprocess<'ignore', 'pipe', 'inherit'>;
  ran: number;
  lastLine: string;
  closed: Promise<void>;
}

export function watch(proc: Subprocess<'ignore', 'pipe', 'inherit'>): Watched {
  const watched: Watched = { proc, ran: 0, lastLine: '', closed: Promise.resolve() };
  watched.closed = (async () => {
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of proc.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines.filter((l) => l.trim() !== '')) {
        watched.lastLine = line;
        const ran = (JSON.parse(line) as { ran?: number }).ran;
        if (typeof ran === 'number') watched.ran = ran;
      }
    }
    if (buffered.trim() !== '') watched.lastLine = buffered;
  })();
  return watched;
}

/**
 * Waits until the processes have started all but the last report's worth of `jobs`, then polls `remaining` (a query
 * answering how many are left) every 10 ms until it says none. Returns the epoch ms at which it did.
 */
export async function drained(
  watched: readonly Watched[],
  jobs: number,
  remaining: () => Promise<number>,
  deadline: number,
): Promise<number> {
  for (;;) {
    await Bun.sleep(10);
    if (Date.now() > deadline) throw new Error(`jobs left at the deadline: ${await remaining()}`);
    const ran = watched.reduce((sum, w) => sum + w.ran, 0);
    if (ran + PROGRESS_EVERY * watched.length < jobs) continue;
    if ((await remaining()) === 0) return performance.timeOrigin + performance.now();
  }
}
