/** One error shape for every response: `{ error: { code, message, details, requestId } }`, never a stack trace. */
import { asDatabaseError, type ErrorCode, FileProcessingError, type Logger } from '@mediaforge/core';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ApiEnv } from './env.ts';
import { requestLogger } from './request-logger.ts';
import { STATUS_BY_CODE, type StatusFor } from './status-by-code.ts';

/**
 * An error raised by the API layer itself (auth, limits, routing). Its status must be the one STATUS_BY_CODE gives
 * its code (the compiler checks), except HTTP_ERROR, which carries the status of Hono's HTTPException.
 */
export class ApiError<C extends ErrorCode = ErrorCode> extends FileProcessingError {
  declare readonly code: C;

  constructor(
    readonly status: StatusFor<C>,
    code: C,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(message, code, { details });
  }
}

/** The status of a typed error: the map's, except a database failure that a retry cannot fix (500). */
export function statusOf(error: FileProcessingError): ContentfulStatusCode {
  if (error instanceof ApiError) return error.status;
  if (error.code === 'DATABASE_ERROR' && !error.transient) return 500;
  return STATUS_BY_CODE[error.code];
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details: Record<string, unknown>; requestId?: string };
}

/** What a request that threw is answered: status, body, and when to come back (429, 503). */
export interface ErrorAnswer {
  status: ContentfulStatusCode;
  body: ErrorBody;
  retryAfterSeconds?: number;
}

/**
 * The answer to anything thrown while handling a request, without a Hono context (the server's hot routes use it
 * too); unknown errors and 5xx are logged through `log`, which builds the request's logger on first use.
 */
export function errorAnswer(
  thrown: unknown,
  requestId: string,
  aborted: boolean,
  log: () => Logger | undefined,
): ErrorAnswer {
  if (aborted && !(thrown instanceof ApiError)) {
    // The client went away mid-request: nothing to answer, and not the server's fault.
    log()?.info({ requestId, reason: (thrown as Error)?.message }, 'client aborted the request');
    return { status: 400, body: { error: clientGone(requestId) } };
  }
  // A database that is down or restarting is a 503 the client may retry, not an opaque 500.
  const error = asDatabaseError(thrown) ?? thrown;
  if (error instanceof FileProcessingError) {
    const status = statusOf(error);
    if (status >= 500) log()?.error({ err: error, requestId }, 'request failed');
    // Server-side failures carry SQL, hosts, ports and paths in their messages: those stay in the log.
    const shown = status >= 500 ? serverFailure(error, requestId) : publicError(error, requestId);
    const retry = error.details.retryAfterSeconds;
    // RATE_LIMITED, OVERLOADED, CONCURRENCY_LIMITED: say when to come back, so clients do not hammer.
    return { status, body: { error: shown }, ...(typeof retry === 'number' ? { retryAfterSeconds: retry } : {}) };
  }
  log()?.error({ err: error, requestId }, 'unexpected error');
  return {
    status: 500,
    body: {
      error: { code: 'INTERNAL_ERROR', message: 'Internal server error; see the server log.', details: {}, requestId },
    },
  };
}

/** Turns anything thrown by a handler into the error shape; unknown errors are logged and reported as 500. */
export function errorResponse(thrown: unknown, c: Context<ApiEnv>): Response {
  const answer = errorAnswer(thrown, c.get('requestId'), c.req.raw.signal.aborted, () => requestLogger(c));
  if (answer.retryAfterSeconds !== undefined) c.header('Retry-After', String(answer.retryAfterSeconds));
  return c.json(answer.body, answer.status);
}

function publicError(error: FileProcessingError, requestId: string): ErrorBody['error'] {
  return { code: error.code, message: error.message, details: error.details, requestId };
}

/** A 5xx as the client sees it: the code and a fixed message; the details are in the server log under the request id. */
function serverFailure(error: FileProcessingError, requestId: string): ErrorBody['error'] {
  const retry = error.transient || error.code === 'DATABASE_ERROR' || error.code === 'STORAGE_TRANSIENT';
  const what = error.code === 'DATABASE_ERROR' ? 'The database' : error.code.startsWith('STORAGE_') ? 'Storage' : '';
  const message = what
    ? `${what} ${retry ? 'is unavailable; retry shortly' : 'failed'} (details in the server log under this request id).`
    : 'The server failed to handle this request (details in the server log under this request id).';
  const details =
    typeof error.details.retryAfterSeconds === 'number' ? { retryAfterSeconds: error.details.retryAfterSeconds } : {};
  return { code: error.code, message, details, requestId };
}

function clientGone(requestId: string): ErrorBody['error'] {
  return { code: 'CLIENT_ABORTED', message: 'The client closed the connection.', details: {}, requestId };
}

/** zod issues as the details of a 400. */
export function validationError(issues: readonly { path: readonly PropertyKey[]; message: string }[], where: string) {
  const list = issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
  const summary = list.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join('; ');
  return new ApiError(400, 'VALIDATION_ERROR', `Invalid ${where}: ${summary}`, { issues: list });
}
