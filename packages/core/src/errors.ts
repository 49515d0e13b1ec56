/** The typed failures of mediaforge: every one has a stable `code` that the CLI, API and job results use. */
import type { ErrorCode } from './error-codes.ts';

export interface ErrorOptions {
  cause?: unknown;
  /** True when trying the same thing again later may succeed (network blips, 5xx, lock timeouts). */
  transient?: boolean;
  details?: Record<string, unknown>;
}

/** Base of every mediaforge error. `code` is stable across releases; `message` says what to do. */
export class FileProcessingError extends Error {
  readonly code: ErrorCode;
  readonly transient: boolean;
  readonly details: Record<string, unknown>;

  constructor(message: string, code: ErrorCode, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.transient = options.transient ?? false;
    this.details = options.details ?? {};
  }

  toJSON(): { code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** Settings that cannot be used; the message names every bad variable. */
export class ConfigError extends FileProcessingError {
  constructor(
    message: string,
    readonly issues: readonly { variable: string; problem: string }[] = [],
  ) {
    super(message, 'CONFIG_INVALID', { details: { issues } });
  }
}

export class InvalidUidError extends FileProcessingError {
  constructor(readonly value: string) {
    super(
      `Invalid record UID ${JSON.stringify(value)}: expected a UUID like 12345678-1234-5678-9012-123456789012.`,
      'INVALID_UID',
      { details: { value } },
    );
  }
}

export class RecordNotFoundError extends FileProcessingError {
  constructor(readonly uid: string) {
    super(`No record with UID ${uid}; create it first (mediaforge records create).`, 'RECORD_NOT_FOUND', {
      details: { uid },
    });
  }
}

export class FileSizeExceededError extends FileProcessingError {
  constructor(
    readonly limitBytes: number,
    readonly actualBytes: number,
    context = 'File',
  ) {
    super(
      `${context} is ${distinctSize(actualBytes, limitBytes)}${actualBytes > limitBytes ? '' : '+'}, over the limit of ${distinctSize(limitBytes, actualBytes)} (raise MAX_FILE_SIZE_MB or pass a larger --max-size).`,
      'FILE_SIZE_EXCEEDED',
      { details: { limitBytes, actualBytes } },
    );
  }
}

export class FileTypeNotSupportedError extends FileProcessingError {
  constructor(
    readonly detectedType: string,
    hint = '',
  ) {
    super(`Unsupported file type: ${detectedType}.${hint ? ` ${hint}` : ''}`, 'FILE_TYPE_NOT_SUPPORTED', {
      details: { detectedType },
    });
  }
}

export class IntegrityError extends FileProcessingError {
  constructor(
    readonly contentType: string,
    problem: string,
    options: ErrorOptions = {},
  ) {
    super(`Corrupted or invalid ${contentType}: ${problem}`, 'INTEGRITY_ERROR', {
      ...options,
      details: { contentType, problem, ...options.details },
    });
  }
}

/** An image whose decode ran past its time budget (pixels-proportional): refused as too costly, not as damaged. */
export class DecodeTimeoutError extends FileProcessingError {
  constructor(
    readonly contentType: string,
    readonly seconds: number,
    options: ErrorOptions = {},
  ) {
    super(
      `Decoding this ${contentType} took longer than its budget of ${seconds} s for its size, so it is refused as too costly to check. Re-encode it (baseline, fewer scans or frames) and upload it again.`,
      'DECODE_TIMEOUT',
      { ...options, details: { contentType, budgetSeconds: seconds, ...options.details } },
    );
  }
}

export class DatabaseError extends FileProcessingError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, 'DATABASE_ERROR', { transient: true, ...options });
  }
}

/** Human-readable byte counts for messages: 1536 → "1.5 KiB". */
/** `bytes` rounded, or exact when rounding would make it read the same as `other` ("50 MiB, over 50 MiB"). */
function distinctSize(bytes: number, other: number): string {
  return formatBytes(bytes) === formatBytes(other) ? `${bytes} bytes` : formatBytes(bytes);
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
