/**
 * Every error code any mediaforge package raises, in one list. The API's status map and the CLI's exit-code map are
 * `Record<ErrorCode, …>`, so adding a code here fails the build until both say what it means.
 */

export const ERROR_CODES = [
  // Anything thrown that was not one of ours (a bug, an unexpected library failure).
  'INTERNAL_ERROR',
  'CONFIG_INVALID',
  'SHARP_UNAVAILABLE',

  // The caller's input.
  'USAGE',
  'VALIDATION_ERROR',
  'INVALID_INPUT',
  'INVALID_UID',
  'INVALID_CURSOR',
  'INVALID_SIZE',
  'INVALID_URL',
  'URL_NOT_ALLOWED',
  'INVALID_HEADERS',
  'BATCH_TOO_LARGE',
  'UNSUPPORTED_SYNTHESIS_FORMAT',

  // The file itself.
  'FILE_SIZE_EXCEEDED',
  'FILE_TYPE_NOT_SUPPORTED',
  'INTEGRITY_ERROR',
  // A type the request's allowedTypes leaves out.
  'FILE_TYPE_NOT_ALLOWED',
  // The user's storage quota or record cap (USER_STORAGE_QUOTA_MB, USER_MAX_RECORDS) would be passed.
  'QUOTA_EXCEEDED',
  'DECODE_TIMEOUT',

  // Records and their claims.
  'RECORD_NOT_FOUND',
  'GENERATION_NOT_FOUND',
  'RECORD_EXISTS',
  'RECORD_HAS_FILE',
  'RECORD_BUSY',
  'MEDIA_TYPE_MISMATCH',
  'CLAIM_LOST',
  'FILE_NOT_FOUND',
  'API_KEY_NOT_FOUND',
  // Direct and resumable uploads (their staged bytes, tokens and limits).
  'UPLOAD_NOT_FOUND',
  'UPLOAD_USED',
  'UPLOAD_NOT_RECEIVED',
  'UPLOAD_LIMIT',

  // Tasks, items and workers.
  'TASK_NOT_FOUND',
  'INVALID_TASK',
  'INVALID_QUEUE',
  'UNKNOWN_QUEUE',
  'OPTION_NOT_ALLOWED',
  'JSON_TOO_DEEP',
  'REQUEST_TIMEOUT',
  'SERVER_BUSY',
  'CLIENT_ABORTED',
  'INVALID_ITEM',
  'NOTHING_TO_DO',
  'NO_HANDLER',
  'CANCELLED',
  'SHUTDOWN',
  'TASK_TIMEOUT',
  'TASK_SOFT_TIMEOUT',
  'LEASE_EXPIRED',
  'ITEMS_FAILED',
  'OVERLOADED',
  'CONCURRENCY_LIMITED',
  'IDEMPOTENCY_KEY_REUSED',
  'WEBHOOK_SIGNATURE_INVALID',

  // Schedules.
  'INVALID_SCHEDULE',
  'SCHEDULE_TOO_FREQUENT',
  'SCHEDULE_NOT_FOUND',
  'TOO_MANY_SCHEDULES',

  // Downloads from a URL.
  'DOWNLOAD_HTTP_STATUS',
  'DOWNLOAD_TIMEOUT',
  'DOWNLOAD_NETWORK',
  'NETWORK_ERROR',
  'DOWNLOAD_DNS',
  'DOWNLOAD_REDIRECTS',
  'DOWNLOAD_INTERRUPTED',
  'DOWNLOAD_ABORTED',

  // The database and the object store.
  'DATABASE_ERROR',
  'STORAGE_NOT_FOUND',
  'STORAGE_ACCESS_DENIED',
  'STORAGE_BUCKET_MISSING',
  'STORAGE_TOO_LARGE',
  'STORAGE_TRANSIENT',
  'STORAGE_INVALID_KEY',
  'STORAGE_INVALID_METADATA',
  'STORAGE_ABORTED',
  'STORAGE_ERROR',

  // The HTTP layer.
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'MALFORMED_JSON',
  'MALFORMED_MULTIPART',
  'PAYLOAD_TOO_LARGE',
  'RANGE_NOT_SATISFIABLE',
  'RATE_LIMITED',
  'HTTP_ERROR',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN: ReadonlySet<string> = new Set(ERROR_CODES);

/** True when `value` is one of our codes: for codes read back from a job row or another process. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && KNOWN.has(value);
}
