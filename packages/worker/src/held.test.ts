import { expect, test } from 'bun:test';
import type { ClaimedItem, Logger } from '@mediaforge/core';
import { holdItem } from './held.ts';

const held = () =>
  holdItem({ id: 1, taskId: 't', seq: 0, attempts: 1 } as ClaimedItem, {} as unknown as Logger, 'worker');

test("an item's signal fires with the first reason, whether the handler asked for it before or after the stop", () => {
  const early = held();
  const signal = early.signal;
  let heard: unknown;
  signal.addEventListener('abort', () => {
    heard = signal.reason;
  });
  expect(signal.aborted).toBe(false);
  early.abort('soft');
  early.abort('hard');
  expect(heard).toBe('soft');
  expect(early.abortReason).toBe('soft');

  const late = held();
  expect(late.abortReason).toBeUndefined();
  late.abort('lost');
  late.abort('shutdown');
  expect(late.signal.aborted).toBe(true);
  expect(late.signal.reason).toBe('lost');
  expect(late.signal).toBe(late.signal);
});
