import { describe, expect, test } from 'bun:test';
import { DatabaseError, ERROR_CODES, type ErrorCode, FileProcessingError } from '@mediaforge/core';
import { StorageError } from '@mediaforge/storage';
import { Hono } from 'hono';
import type { ApiEnv } from './env.ts';
import { ApiError, type ErrorBody, errorResponse, statusOf } from './errors.ts';
import { STATUS_BY_CODE } from './status-by-code.ts';

/** The codes that are a server fault on purpose; any other code answering 500 is a missed mapping. */
const INTENDED_500: readonly ErrorCode[] = ['INTERNAL_ERROR', 'CONFIG_INVALID', 'SHARP_UNAVAILABLE', 'NO_HANDLER'];

/** A route that throws what it is given, behind the same error handler as the real app. */
function appThrowing(error: unknown) {
  const app = new Hono<ApiEnv>();
  app.onError((thrown, c) => errorResponse(thrown, c));
  app.get('/boom', () => {
    throw error;
  });
  return app;
}

async function call(error: unknown) {
  const response = await appThrowing(error).request('/boom');
  return { status: response.status, body: (await response.json()) as ErrorBody, headers: response.headers };
}

describe('every error code has its own HTTP status', () => {
  test.each([...ERROR_CODES])('%s is a 4xx or 5xx, and 500 only when intended', (code) => {
    const status = statusOf(new FileProcessingError('x', code, { transient: true }));
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(600);
    if (!INTENDED_500.includes(code)) expect(status).not.toBe(500);
  });

  test('the map has exactly the codes of the union', () => {
    expect(Object.keys(STATUS_BY_CODE).sort()).toEqual([...ERROR_CODES].sort());
  });

  test('an ApiError must carry the status its code maps to', () => {
    // @ts-expect-error UNAUTHORIZED is a 401: a different status does not compile (checked by `bun run typecheck`).
    expect(statusOf(new ApiError(500, 'UNAUTHORIZED', 'x'))).toBe(500);
    expect(statusOf(new ApiError(401, 'UNAUTHORIZED', 'x'))).toBe(401);
  });
});

describe('typed errors thrown through a Hono route', () => {
  test.each([
    ['CLAIM_LOST', 409],
    ['RECORD_BUSY', 409],
    ['INVALID_SIZE', 400],
    ['FILE_SIZE_EXCEEDED', 413],
    ['CONCURRENCY_LIMITED', 429],
    ['UNKNOWN_QUEUE', 422],
  ] as const)('%s answers %i with its code, not 500', async (code, status) => {
    const response = await call(new FileProcessingError(`failed with ${code}`, code));
    expect(response.status).toBe(status);
    expect(response.body.error).toMatchObject({ code, message: `failed with ${code}` });
  });

  test('OVERLOADED is a 503 that says when to come back', async () => {
    const response = await call(new FileProcessingError('busy', 'OVERLOADED', { details: { retryAfterSeconds: 7 } }));
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('7');
  });

  test('a storage error is typed as it is: 503 when transient, 502 otherwise, its cause kept in the log', async () => {
    const outage = await call(new StorageError('s3', 'STORAGE_TRANSIENT', 'connect ECONNREFUSED 10.0.0.5:9000'));
    expect(outage.status).toBe(503);
    expect(outage.body.error).toMatchObject({ code: 'STORAGE_TRANSIENT', details: {} });
    expect(JSON.stringify(outage.body)).not.toContain('10.0.0.5');
    expect((await call(new StorageError('s3', 'STORAGE_ACCESS_DENIED', 'no'))).status).toBe(502);
  });

  test('a database that is down is a 503; one that failed for good is a 500', async () => {
    expect((await call(new DatabaseError('gone', { transient: true }))).status).toBe(503);
    expect((await call(new DatabaseError('broken', { transient: false }))).status).toBe(500);
  });

  test('anything untyped is a 500 INTERNAL_ERROR that hides its message', async () => {
    const response = await call(new Error('secret detail'));
    expect(response.status).toBe(500);
    expect(response.body.error.code).toBe('INTERNAL_ERROR');
    expect(response.body.error.message).not.toContain('secret');
  });
});
