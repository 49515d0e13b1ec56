/** Typed storage failures: each names its driver and has a stable code saying whether a retry can help. */

export type StorageErrorCode =
  | 'STORAGE_NOT_FOUND'
  | 'STORAGE_ACCESS_DENIED'
  | 'STORAGE_BUCKET_MISSING'
  | 'STORAGE_TOO_LARGE'
  | 'STORAGE_TRANSIENT'
  | 'STORAGE_INVALID_KEY'
  | 'STORAGE_INVALID_METADATA'
  | 'STORAGE_ABORTED'
  | 'STORAGE_ERROR';

export class StorageError extends Error {
  readonly transient: boolean;

  constructor(
    readonly driver: string,
    readonly code: StorageErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(`[${driver}] ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StorageError';
    this.transient = code === 'STORAGE_TRANSIENT';
  }
}

export class InvalidKeyError extends StorageError {
  constructor(driver: string, key: string, problem: string) {
    super(driver, 'STORAGE_INVALID_KEY', `invalid object key ${JSON.stringify(key)}: ${problem}`);
    this.name = 'InvalidKeyError';
  }
}

export class StorageAbortedError extends StorageError {
  constructor(driver: string, key: string, cause?: unknown) {
    super(driver, 'STORAGE_ABORTED', `upload of ${key} was aborted; nothing was stored`, { cause });
    this.name = 'StorageAbortedError';
  }
}
