import { expect, test } from 'bun:test';
import { Wakeup } from './wakeup.ts';

test('wake ends a wait early', async () => {
  const wakeup = new Wakeup();
  const started = performance.now();
  setTimeout(() => wakeup.wake(), 20);
  await wakeup.wait(5000);
  expect(performance.now() - started).toBeLessThan(2000);
});

test('a wake before the wait is not lost, and is used once', async () => {
  const wakeup = new Wakeup();
  wakeup.wake();
  const started = performance.now();
  await wakeup.wait(5000);
  expect(performance.now() - started).toBeLessThan(1000);
  const second = performance.now();
  await wakeup.wait(50);
  expect(performance.now() - second).toBeGreaterThanOrEqual(45);
});
