/**
 * Each request's logger, built on first use: a pino child per request (with its redaction set-up) cost about 4% of a
 * record read, and most requests log nothing.
 */
import type { Logger } from '@mediaforge/core';
import type { Context } from 'hono';
import type { ApiEnv } from './env.ts';

/** The request's logger, bound to its request id and, once the key is checked, to the key and its user. */
export function requestLogger(c: Context<ApiEnv>): Logger | undefined {
  const made = c.get('logger');
  if (made) return made;
  const root = c.get('rootLogger');
  if (!root) return undefined;
  const principal = c.get('principal');
  const logger = root.child({
    requestId: c.get('requestId'),
    ...(principal ? { keyId: principal.keyId, userId: principal.userId } : {}),
  });
  c.set('logger', logger);
  return logger;
}
