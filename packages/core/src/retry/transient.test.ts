import { describe, expect, test } from 'bun:test';
import {
  isSerializationFailure,
  isTransientDatabaseCode,
  isTransientNetworkError,
  isTransientStatus,
  isTransientSystemCode,
} from './transient.ts';

describe('transient classification', () => {
  test('HTTP: 408, 425, 429 and every 5xx are worth a retry; other 4xx and 2xx/3xx are not', () => {
    for (const status of [408, 425, 429, 500, 502, 503, 504, 599]) expect(isTransientStatus(status)).toBe(true);
    for (const status of [200, 301, 400, 401, 403, 404, 413, 416, 422, 600])
      expect(isTransientStatus(status)).toBe(false);
  });

  test('network: reset, refused, timed out, DNS try-again and SDK timeouts are; missing files and permissions are not', () => {
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'EMFILE']) {
      expect(isTransientSystemCode(code)).toBe(true);
    }
    for (const code of ['ENOENT', 'EACCES', 'ENOSPC', undefined]) expect(isTransientSystemCode(code)).toBe(false);
    expect(isTransientNetworkError({ name: 'TimeoutError', message: 'request timed out' })).toBe(true);
  });

  test("a network error without a code is transient when its message says the socket closed (Bun's node:http)", () => {
    expect(isTransientNetworkError({ message: 'socket hang up' })).toBe(true);
    expect(isTransientNetworkError({ code: 'ERR_INVALID_URL', message: 'Invalid URL' })).toBe(false);
  });

  test('database: lost connections, restarts, connection-class SQLSTATEs and conflicts are; constraint violations are not', () => {
    for (const code of [
      'CONNECTION_CLOSED',
      'CONNECT_TIMEOUT',
      '57P01',
      '57P03',
      '08006',
      '40001',
      '40P01',
      'ECONNREFUSED',
    ]) {
      expect(isTransientDatabaseCode(code)).toBe(true);
    }
    for (const code of ['23505', '22P02', '42P01', '', undefined]) expect(isTransientDatabaseCode(code)).toBe(false);
  });

  test('deadlocks and serialization failures, and only those, may be rerun as they were', () => {
    expect(isSerializationFailure('40P01')).toBe(true);
    expect(isSerializationFailure('40001')).toBe(true);
    expect(isSerializationFailure('57P01')).toBe(false);
  });
});
