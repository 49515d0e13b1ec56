import { describe, expect, test } from 'bun:test';
import { backoffMs } from './backoff.ts';

const low = () => 0;
const high = () => 1;

describe('backoffMs', () => {
  test('doubles per attempt from the base: half fixed, half random (equal jitter)', () => {
    const base = { baseMs: 1000, maxMs: 60_000 };
    expect([1, 2, 3, 4].map((attempt) => backoffMs(attempt, base, low))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((attempt) => backoffMs(attempt, base, high))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffMs(3, base, () => 0.5)).toBe(3000);
  });

  test('is capped at maxMs, jitter included, however many attempts', () => {
    expect(backoffMs(30, { baseMs: 1000, maxMs: 10_000 }, high)).toBe(10_000);
    expect(backoffMs(30, { baseMs: 1000, maxMs: 10_000 }, low)).toBe(5000);
  });

  test('defaults are TASK_RETRY_BASE_SECONDS=2 and TASK_RETRY_MAX_SECONDS=300', () => {
    expect(backoffMs(1, {}, high)).toBe(2000);
    expect(backoffMs(20, {}, high)).toBe(300_000);
  });

  test('attempt 0 or less waits as the first attempt', () => {
    expect(backoffMs(0, { baseMs: 100 }, high)).toBe(100);
  });
});
