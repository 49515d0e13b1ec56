/**
 * Every parser's work is bounded by its input (issue 18): each generated bomb is refused or accepted with a typed
 * outcome, at a cost of at most 1 s per MB of input (1 s for small inputs: the bombs this guards against took 10 s
 * for 274 bytes and 125 s for 947 KB, while a floor of 250 ms was crossed by sound walks on a 2-core machine at
 * load 30).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { FileProcessingError } from '../../errors.ts';
import { SUPPORTED_TYPES } from '../supported.ts';
import { validateFileIntegrity } from '../validate/validate.ts';
import { png } from './image.ts';
import { parserBombs } from './index.ts';

const budgetMs = (size: number) => Math.max(1000, (1000 * size) / 1_000_000);
const bombs = parserBombs({ seed: Number(process.env.BOMB_SEED ?? 1), scales: [16, 1024, 4096] });
const costs: { name: string; size: number; ms: number }[] = [];

beforeAll(async () => {
  // Start the validation thread and load sharp: one-off costs that are not the inputs'.
  await validateFileIntegrity(new TextEncoder().encode('warm'), 'text/plain');
  await validateFileIntegrity(png(1, 1, new Uint8Array(4)), 'image/png');
});

test('every supported validator gets bombs', () => {
  const validators = new Set(SUPPORTED_TYPES.map((type) => type.validator));
  const bombed = new Set(bombs.map((bomb) => SUPPORTED_TYPES.find((type) => type.mime === bomb.mime)?.validator));
  expect([...validators].filter((validator) => !bombed.has(validator))).toEqual([]);
});

test.each(bombs.map((bomb) => [bomb.name, bomb] as const))('%s', async (_, bomb) => {
  const started = performance.now();
  const outcome = await validateFileIntegrity(bomb.bytes, bomb.mime).then(
    () => 'accepted',
    (error: unknown) => error,
  );
  const ms = performance.now() - started;
  costs.push({ name: `${bomb.mime} ${bomb.name}`, size: bomb.bytes.byteLength, ms });
  if (outcome !== 'accepted') expect(outcome).toBeInstanceOf(FileProcessingError);
  expect(ms).toBeLessThanOrEqual(budgetMs(bomb.bytes.byteLength));
});

afterAll(() => {
  const perMb = (cost: (typeof costs)[number]) => cost.ms / Math.max(cost.size / 1_000_000, 0.001);
  const slowest = costs.toSorted((a, b) => perMb(b) - perMb(a))[0];
  if (slowest) {
    console.log(
      `slowest bomb per MB: ${slowest.name}, ${slowest.size} bytes in ${slowest.ms.toFixed(1)} ms (${perMb(slowest).toFixed(0)} ms/MB)`,
    );
  }
});
