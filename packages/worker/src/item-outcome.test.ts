import { describe, expect, test } from 'bun:test';
import { type ClaimedItem, FileProcessingError } from '@mediaforge/core';
import { StorageError } from '@mediaforge/storage';
import { decide } from './item-outcome.ts';

const item = (attempts: number): ClaimedItem => ({
  id: 1,
  taskId: 't',
  seq: 0,
  queue: 'default',
  kind: 'ingest',
  payload: {},
  options: {},
  userId: null,
  generationId: null,
  attempts,
  maxAttempts: 3,
});
/** Not stopped: no abort reason. */
const running = undefined;
const retry = { baseMs: 1000, maxMs: 60_000 };

describe('decide: what a thrown error means for the item', () => {
  test('a transient storage error is retried after the shared backoff (base × 2^(attempt−1), equal jitter)', () => {
    const decision = decide(item(2), running, new StorageError('s3', 'STORAGE_TRANSIENT', 'slow down'), retry);
    expect(decision).toMatchObject({ retry: { status: 'failed', code: 'STORAGE_TRANSIENT' } });
    const { delayMs } = decision as { delayMs: number };
    expect(delayMs).toBeGreaterThanOrEqual(1000);
    expect(delayMs).toBeLessThanOrEqual(2000);
  });

  test('a permanent storage error fails the item with its code', () => {
    const decision = decide(item(1), running, new StorageError('s3', 'STORAGE_ACCESS_DENIED', 'no'), retry);
    expect(decision).toMatchObject({ status: 'failed', code: 'STORAGE_ACCESS_DENIED' });
  });

  test('a transient error on the last attempt fails for good', () => {
    const error = new FileProcessingError('origin busy', 'DOWNLOAD_HTTP_STATUS', { transient: true });
    expect(decide(item(3), running, error, retry)).toMatchObject({ status: 'failed', code: 'DOWNLOAD_HTTP_STATUS' });
  });

  test('an untyped error is INTERNAL_ERROR and not retried, even if it carries a code of its own', () => {
    const error = Object.assign(new Error('boom'), { code: 'ENOENT', transient: true });
    expect(decide(item(1), running, error, retry)).toMatchObject({ status: 'failed', code: 'INTERNAL_ERROR' });
  });
});
