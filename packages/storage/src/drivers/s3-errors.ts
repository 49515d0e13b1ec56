/** S3 failures as typed StorageErrors: the SDK's exceptions and the lean put's replies go through one table. */
import { isTransientStatus, isTransientSystemCode } from '@mediaforge/core';
import { StorageError, type StorageErrorCode } from '../errors.ts';

export const S3_DRIVER = 's3';

/**
 * An exception of the AWS SDK (its `S3ServiceException` and subclasses), known by its shape so that this module, and
 * the driver's facade that uses it, do not load the SDK (s3.ts).
 */
interface SdkException extends Error {
  $fault: string;
  $metadata: { httpStatusCode?: number };
}

function isSdkException(error: unknown): error is SdkException {
  return (
    error instanceof Error &&
    typeof (error as Partial<SdkException>).$metadata === 'object' &&
    typeof (error as Partial<SdkException>).$fault === 'string'
  );
}

export function isNotFound(error: unknown): boolean {
  if (!isSdkException(error)) return false;
  return error.name === 'NoSuchKey' || error.name === 'NotFound' || error.$metadata.httpStatusCode === 404
    ? error.name !== 'NoSuchBucket'
    : false;
}

const CODE_BY_NAME: Record<string, StorageErrorCode> = {
  NoSuchKey: 'STORAGE_NOT_FOUND',
  NotFound: 'STORAGE_NOT_FOUND',
  NoSuchBucket: 'STORAGE_BUCKET_MISSING',
  AccessDenied: 'STORAGE_ACCESS_DENIED',
  InvalidAccessKeyId: 'STORAGE_ACCESS_DENIED',
  SignatureDoesNotMatch: 'STORAGE_ACCESS_DENIED',
  Forbidden: 'STORAGE_ACCESS_DENIED',
  EntityTooLarge: 'STORAGE_TOO_LARGE',
  SlowDown: 'STORAGE_TRANSIENT',
  Throttling: 'STORAGE_TRANSIENT',
  ServiceUnavailable: 'STORAGE_TRANSIENT',
  InternalError: 'STORAGE_TRANSIENT',
  RequestTimeout: 'STORAGE_TRANSIENT',
};

/** S3's reply (status, error code name, message) as a typed StorageError. */
export function s3ErrorFor(status: number, name: string, message: string, what: string, cause?: unknown): StorageError {
  const code =
    CODE_BY_NAME[name] ??
    (status === 403 || status === 401
      ? 'STORAGE_ACCESS_DENIED'
      : status === 404
        ? 'STORAGE_NOT_FOUND'
        : status === 413
          ? 'STORAGE_TOO_LARGE'
          : isTransientStatus(status)
            ? 'STORAGE_TRANSIENT'
            : 'STORAGE_ERROR');
  const detail = message && message !== 'UnknownError' ? message : `HTTP ${status}`;
  const text = name ? `${name}: ${detail}` : detail === `HTTP ${status}` ? detail : `HTTP ${status}: ${detail}`;
  return new StorageError(S3_DRIVER, code, `${what}: ${text}`, { cause });
}

/** An SDK or network failure as a typed StorageError; what the SDK already retried is reported as transient. */
export function mapS3Error(error: unknown, what: string): StorageError {
  if (error instanceof StorageError) return error;
  if (isSdkException(error)) {
    return s3ErrorFor(error.$metadata.httpStatusCode ?? 0, error.name, error.message, what, error);
  }
  const err = error as { code?: string; name?: string; message?: string };
  const transient = isTransientSystemCode(err.code) || isTransientSystemCode(err.name);
  return new StorageError(S3_DRIVER, transient ? 'STORAGE_TRANSIENT' : 'STORAGE_ERROR', `${what}: ${err.message}`, {
    cause: error,
  });
}
