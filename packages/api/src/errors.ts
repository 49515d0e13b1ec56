/** One error shape for every response: `{ error: { code, message, details, requestId } }`, never a stack trace. */
import { asDatabaseError, FileProcessingError } from '@mediaforge/core';
import { StorageError } from '@mediaforge/storage';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ApiEnv } from './env.ts';

/** An error raised by the API layer itself (auth, limits, routing). */
export class ApiError extends FileProcessingError {
  constructor(
    readonly status: ContentfulStatusCode,
    code: string,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(message, code, { details });
  }
}

/** Statuses for the codes core and storage raise (ApiErrors carry their own). */
const STATUS_BY_CODE: Record<string, ContentfulStatusCode> = {
  VALIDATION_ERROR: 400,
  INVALID_INPUT: 400,
  INVALID_UID: 400,
  INVALID_TASK: 400,
  INVALID_CURSOR: 400,
  INVALID_QUEUE: 400,
  INVALID_URL: 400,
  INVALID_SIZE: 400,
  BATCH_TOO_LARGE: 400,
  URL_NOT_ALLOWED: 400,
  RECORD_NOT_FOUND: 404,
  TASK_NOT_FOUND: 404,
  API_KEY_NOT_FOUND: 404,
  RECORD_HAS_FILE: 409,
  RECORD_BUSY: 409,
  MEDIA_TYPE_MISMATCH: 409,
  NOTHING_TO_DO: 409,
  FILE_SIZE_EXCEEDED: 413,
  FILE_TYPE_NOT_SUPPORTED: 415,
  INTEGRITY_ERROR: 422,
  DATABASE_ERROR: 503,
  STORAGE_TRANSIENT: 503,
};

export function statusOf(error: FileProcessingError): ContentfulStatusCode {
  if (error instanceof ApiError) return error.status;
  // A database that is down is worth retrying (503); one that failed for good is the server's problem (500).
  if (error.code === 'DATABASE_ERROR' && !error.transient) return 500;
  const known = STATUS_BY_CODE[error.code];
  if (known) return known;
  if (error.code.startsWith('STORAGE_')) return 502;
  return 500;
}

export interface ErrorBody {
  error: { code: string; message: string; details: Record<string, unknown>; requestId?: string };
}

/** Turns anything thrown by a handler into the error shape; unknown errors are logged and reported as 500. */
export function errorResponse(thrown: unknown, c: Context<ApiEnv>): Response {
  const requestId = c.get('requestId');
  if (c.req.raw.signal.aborted && !(thrown instanceof ApiError)) {
    // The client went away mid-request: nothing to answer, and not the server's fault.
    c.get('logger')?.info({ requestId, reason: (thrown as Error)?.message }, 'client aborted the request');
    return c.json({ error: clientGone(requestId) } satisfies ErrorBody, 400);
  }
  // A database that is down or restarting is a 503 the client may retry, not an opaque 500; so is a store that is.
  const error = asDatabaseError(thrown) ?? fromStorageError(thrown) ?? thrown;
  if (error instanceof FileProcessingError) {
    const status = statusOf(error);
    if (status >= 500) c.get('logger')?.error({ err: error, requestId }, 'request failed');
    if (typeof error.details.retryAfterSeconds === 'number' && (status === 429 || status === 503)) {
      c.header('Retry-After', String(error.details.retryAfterSeconds));
    }
    // Server-side failures carry SQL, hosts, ports and paths in their messages: those stay in the log.
    const shown = status >= 500 ? serverFailure(error, requestId) : publicError(error, requestId);
    return c.json({ error: shown } satisfies ErrorBody, status);
  }
  c.get('logger')?.error({ err: error, requestId }, 'unexpected error');
  return c.json(
    {
      error: { code: 'INTERNAL_ERROR', message: 'Internal server error; see the server log.', details: {}, requestId },
    } satisfies ErrorBody,
    500,
  );
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

/** Storage errors (not FileProcessingErrors: core knows no package of ours) in the same typed shape. */
function fromStorageError(error: unknown): FileProcessingError | undefined {
  if (!(error instanceof StorageError)) return undefined;
  return new FileProcessingError(error.message, error.code, {
    transient: error.transient,
    details: { driver: error.driver },
  });
}

/** zod issues as the details of a 400. */
export function validationError(issues: readonly { path: readonly PropertyKey[]; message: string }[], where: string) {
  const list = issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
  const summary = list.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join('; ');
  return new ApiError(400, 'VALIDATION_ERROR', `Invalid ${where}: ${summary}`, { issues: list });
}
