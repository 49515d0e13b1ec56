/**
 * The HTTP status of every error code. `satisfies Record<ErrorCode, …>` makes a code without a status a compile
 * error, so nothing reaches a client as a 500 by omission; the few 500s below are server faults on purpose.
 */
import type { ErrorCode } from '@mediaforge/core';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export const STATUS_BY_CODE = {
  // Server faults: a bug, a bad deployment or configuration. Nothing the client can change.
  INTERNAL_ERROR: 500,
  CONFIG_INVALID: 500,
  SHARP_UNAVAILABLE: 500,
  NO_HANDLER: 500,

  USAGE: 400,
  VALIDATION_ERROR: 400,
  INVALID_INPUT: 400,
  INVALID_UID: 400,
  INVALID_CURSOR: 400,
  INVALID_SIZE: 400,
  INVALID_URL: 400,
  URL_NOT_ALLOWED: 400,
  INVALID_HEADERS: 400,
  BATCH_TOO_LARGE: 400,
  UNSUPPORTED_SYNTHESIS_FORMAT: 422,

  FILE_SIZE_EXCEEDED: 413,
  // 413, not 507: the caller must free space (a 4xx), and clients retry 5xx as the server's fault.
  QUOTA_EXCEEDED: 413,
  FILE_TYPE_NOT_SUPPORTED: 415,
  FILE_TYPE_NOT_ALLOWED: 415,
  INTEGRITY_ERROR: 422,
  DECODE_TIMEOUT: 422,

  RECORD_NOT_FOUND: 404,
  GENERATION_NOT_FOUND: 404,
  RECORD_EXISTS: 409,
  RECORD_HAS_FILE: 409,
  UPLOAD_NOT_FOUND: 404,
  UPLOAD_USED: 409,
  UPLOAD_NOT_RECEIVED: 409,
  UPLOAD_LIMIT: 429,
  // Another worker holds the record, or took it over: the request conflicts with work in progress.
  RECORD_BUSY: 409,
  MEDIA_TYPE_MISMATCH: 409,
  CLAIM_LOST: 409,
  FILE_NOT_FOUND: 404,
  API_KEY_NOT_FOUND: 404,

  TASK_NOT_FOUND: 404,
  INVALID_SCHEDULE: 400,
  SCHEDULE_TOO_FREQUENT: 400,
  SCHEDULE_NOT_FOUND: 404,
  TOO_MANY_SCHEDULES: 409,
  INVALID_TASK: 400,
  INVALID_QUEUE: 400,
  UNKNOWN_QUEUE: 422,
  OPTION_NOT_ALLOWED: 403,
  JSON_TOO_DEEP: 400,
  REQUEST_TIMEOUT: 408,
  SERVER_BUSY: 503,
  // A connection to a store or origin was reset or timed out: worth retrying.
  NETWORK_ERROR: 503,
  // The client hung up; nobody reads this answer.
  CLIENT_ABORTED: 400,
  INVALID_ITEM: 400,
  NOTHING_TO_DO: 409,
  CANCELLED: 409,
  SHUTDOWN: 503,
  TASK_TIMEOUT: 504,
  TASK_SOFT_TIMEOUT: 504,
  LEASE_EXPIRED: 503,
  // The items behind a task failed at their sources (origins, store): an upstream failure, not ours.
  ITEMS_FAILED: 502,
  // With Retry-After (details.retryAfterSeconds).
  OVERLOADED: 503,
  CONCURRENCY_LIMITED: 429,
  IDEMPOTENCY_KEY_REUSED: 409,
  WEBHOOK_SIGNATURE_INVALID: 400,

  // The origin of a URL misbehaved: a bad gateway from the client's point of view.
  DOWNLOAD_HTTP_STATUS: 502,
  DOWNLOAD_TIMEOUT: 504,
  DOWNLOAD_NETWORK: 502,
  DOWNLOAD_DNS: 502,
  DOWNLOAD_REDIRECTS: 502,
  DOWNLOAD_INTERRUPTED: 502,
  DOWNLOAD_ABORTED: 409,

  // A database that is down is worth retrying (503); statusOf answers 500 for one that failed for good.
  DATABASE_ERROR: 503,
  STORAGE_TRANSIENT: 503,
  STORAGE_NOT_FOUND: 502,
  STORAGE_ACCESS_DENIED: 502,
  STORAGE_BUCKET_MISSING: 502,
  STORAGE_TOO_LARGE: 502,
  STORAGE_INVALID_KEY: 502,
  STORAGE_INVALID_METADATA: 502,
  STORAGE_ABORTED: 502,
  STORAGE_ERROR: 502,

  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  MALFORMED_JSON: 400,
  MALFORMED_MULTIPART: 400,
  PAYLOAD_TOO_LARGE: 413,
  RANGE_NOT_SATISFIABLE: 416,
  RATE_LIMITED: 429,
  // Hono's own HTTPExceptions: the ApiError carries the exception's status; 400 is the type's placeholder.
  HTTP_ERROR: 400,
} as const satisfies Record<ErrorCode, ContentfulStatusCode>;

/** The status a code maps to; an ApiError must be raised with this status (the compiler checks). */
export type StatusFor<C extends ErrorCode> = (typeof STATUS_BY_CODE)[C];
