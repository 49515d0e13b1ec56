import { describe, expect, test } from 'bun:test';
import { parseRetryAfter, retryDelayMs } from './retry-after.ts';

const now = Date.parse('2026-01-01T00:00:00Z');

describe('parseRetryAfter', () => {
  test('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('0.5', now)).toBe(500);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
  });

  test('a date in the past means now; absent or unreadable means no opinion', () => {
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('retryDelayMs', () => {
  const policy = { baseMs: 100, maxMs: 10_000, maxRetryAfterMs: 60_000, random: () => 1, now };

  test("the server's Retry-After wins over our backoff", () => {
    expect(retryDelayMs(1, '7', policy)).toBe(7000);
  });

  test('without a readable Retry-After it is our backoff', () => {
    expect(retryDelayMs(3, undefined, policy)).toBe(400);
    expect(retryDelayMs(3, 'whenever', policy)).toBe(400);
  });

  test('a Retry-After longer than maxRetryAfterMs means give up', () => {
    expect(retryDelayMs(1, '3600', policy)).toBeUndefined();
    expect(retryDelayMs(1, '60', policy)).toBe(60_000);
  });
});
