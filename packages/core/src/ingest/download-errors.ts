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

/**
 * The network failures a download meets most, in mediaforge's words (the runtime's own are terse, doubled or name
 * its internals: "ECONNREFUSED: ECONNREFUSED: Unable to connect. Is the computer able to access the url?"). The code
 * stays in brackets for searching; anything else keeps the runtime's message after its code.
 */
const NETWORK_WORDS = new Map<string, string>(
  Object.entries({
    ECONNREFUSED: 'the server refused the connection',
    ConnectionRefused: 'the server refused the connection',
    ECONNRESET: 'the server reset the connection',
    ConnectionClosed: 'the server closed the connection before answering in full',
    EPIPE: 'the server closed the connection while the request was sent',
    ETIMEDOUT: 'the connection timed out',
    EHOSTUNREACH: 'the server is unreachable',
    ENETUNREACH: 'the network is unreachable',
    ENOTFOUND: 'the name does not resolve',
    EAI_AGAIN: 'the name could not be resolved (a temporary DNS failure)',
    ResponseHeadersTooLarge: "the server's response headers are larger than allowed",
    Malformed_HTTP_Response: "the server's response is not valid HTTP",
    InvalidHTTPResponse: "the server's response is not valid HTTP",
  }),
);

export function networkError(
  error: NodeJS.ErrnoException,
  url: string,
  attempts: number,
  code: DownloadErrorCode = 'DOWNLOAD_NETWORK',
): FileProcessingError {
  if (error instanceof FileProcessingError) return error;
  const transient = isTransientNetworkError(error);
  const words = error.code ? NETWORK_WORDS.get(error.code) : undefined;
  const message = words
    ? `${words[0]?.toUpperCase()}${words.slice(1)} [${error.code}]`
    : `${error.code ?? 'network error'}: ${error.message}`;
  return new DownloadError(code, message, url, attempts, undefined, { transient, cause: error });
}

export function abortError(signal: AbortSignal, url: string, attempts: number, cause?: unknown): FileProcessingError {
  if (signal.reason instanceof FileProcessingError) return signal.reason;
  return new DownloadError('DOWNLOAD_ABORTED', 'Download cancelled', url, attempts, undefined, {
    cause: cause ?? signal.reason,
  });
}
