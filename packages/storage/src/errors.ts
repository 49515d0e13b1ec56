/** Typed storage failures: each names its driver and has a stable code saying whether a retry can help. */
import { type ErrorCode, FileProcessingError } from '@mediaforge/core';

/** The codes of the shared union that a storage driver raises. */
export type StorageErrorCode = Extract<ErrorCode, `STORAGE_${string}`>;

/**
 * A driver's failure. It is a FileProcessingError (storage imports core, never the reverse), so every caller reads
 * `code` and `transient` the same way for storage, database and download failures.
 */
export class StorageError extends FileProcessingError {
  declare readonly code: StorageErrorCode;

  constructor(
    readonly driver: string,
    code: StorageErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(`[${driver}] ${message}`, code, {
      cause: options.cause,
      transient: code === 'STORAGE_TRANSIENT',
      details: { driver },
    });
  }
}

export class InvalidKeyError extends StorageError {
  constructor(driver: string, key: string, problem: string) {
    super(driver, 'STORAGE_INVALID_KEY', `invalid object key ${JSON.stringify(key)}: ${problem}`);
  }
}

export class StorageAbortedError extends StorageError {
  constructor(driver: string, key: string, cause?: unknown) {
    super(driver, 'STORAGE_ABORTED', `upload of ${key} was aborted; nothing was stored`, { cause });
  }
}
