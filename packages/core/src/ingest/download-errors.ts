/** The downloader's typed failures, and how low-level network errors map onto them. */
import { FileProcessingError } from '../errors.ts';
import { isTransientNetworkError } from '../retry/transient.ts';

export type DownloadErrorCode =
  | 'DOWNLOAD_HTTP_STATUS'
  | 'DOWNLOAD_TIMEOUT'
  | 'DOWNLOAD_NETWORK'
  | 'DOWNLOAD_REDIRECTS'
  | 'DOWNLOAD_INTERRUPTED'
  | 'DOWNLOAD_ABORTED';

export class DownloadError extends FileProcessingError {
  constructor(
    code: DownloadErrorCode,
    message: string,
    readonly url: string,
    readonly attempts: number,
    readonly status?: number,
    options: { transient?: boolean; cause?: unknown } = {},
  ) {
    super(`${message} (${url}, ${attempts} attempt${attempts === 1 ? '' : 's'})`, code, {
      transient: options.transient ?? false,
      cause: options.cause,
      details: { url, attempts, ...(status ? { status } : {}) },
    });
  }
}

export function networkError(
  error: NodeJS.ErrnoException,
  url: string,
  attempts: number,
  code: DownloadErrorCode = 'DOWNLOAD_NETWORK',
): FileProcessingError {
  if (error instanceof FileProcessingError) return error;
  const transient = isTransientNetworkError(error);
  return new DownloadError(code, `${error.code ?? 'network error'}: ${error.message}`, url, attempts, undefined, {
    transient,
    cause: error,
  });
}

export function abortError(signal: AbortSignal, url: string, attempts: number, cause?: unknown): FileProcessingError {
  if (signal.reason instanceof FileProcessingError) return signal.reason;
  return new DownloadError('DOWNLOAD_ABORTED', 'Download cancelled', url, attempts, undefined, {
    cause: cause ?? signal.reason,
  });
}
