/** The downloader's typed failures, and how low-level network errors map onto them. */
import { FileProcessingError } from '../errors.ts';

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

export const RETRYABLE_STATUS = (status: number) => status === 408 || status === 429 || status >= 500;
const RETRYABLE_NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);

export function networkError(
  error: NodeJS.ErrnoException,
  url: string,
  attempts: number,
  code: DownloadErrorCode = 'DOWNLOAD_NETWORK',
): FileProcessingError {
  if (error instanceof FileProcessingError) return error;
  const transient = RETRYABLE_NETWORK.has(error.code ?? '') || /socket|closed|reset|aborted/i.test(error.message);
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
