/**
 * The suite runs at two sizes: `bun run chaos` (CHAOS_FULL=1) at the scale, writing its figures to
 * chaos/results/ for RELIABILITY.md; the test suite (CI) at a short size that still injects every kind of fault.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const FULL = process.env.CHAOS_FULL === '1';
export const RESULTS = join(import.meta.dir, '..', 'results');

/** Writes a scenario's figures (full runs only: a short run leaves the committed results alone). */
export async function saveResults(name: string, results: unknown): Promise<void> {
  if (!FULL) return;
  mkdirSync(RESULTS, { recursive: true });
  await Bun.write(join(RESULTS, `${name}.json`), `${JSON.stringify(results, null, 2)}\n`);
}
