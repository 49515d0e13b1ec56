/** What `downloadFile` takes and returns. */
import type { NetworkPolicy } from './guard.ts';

export interface DownloadTimeouts {
  /** TCP (and TLS) connection established. Default 10 s. Added to `firstByteMs`: the limit for the response headers. */
  connectMs?: number;
  /** Response headers after the connection. Default 30 s. (`fetch` reports no connect event, so one limit, the sum.) */
  firstByteMs?: number;
  /** Longest gap between two body chunks. Default 30 s. */
  idleMs?: number;
  /**
   * Slowest body accepted: over each `idleMs` spent waiting for the server, it must send at least this many bytes a
   * second (a transient DOWNLOAD_TIMEOUT otherwise, resumed where the server allows). Default 16 KiB/s; 0 = none.
   */
  minBytesPerSecond?: number;
  /** The whole download, all attempts included. Default 30 min. */
  totalMs?: number;
}

export interface DownloadOptions {
  /** Largest body accepted, in bytes. Default 50 MB (the seed's MAX_FILE_SIZE_MB). */
  maxSize?: number;
  timeouts?: DownloadTimeouts;
  /** Retries after the first attempt. Default 3. */
  retries?: number;
  /** First backoff delay; doubles per attempt, with equal jitter (core's backoffMs). Default 500 ms. */
  backoffMs?: number;
  /** Longest `Retry-After` honoured (longer ones fail the download). Default 120 s. */
  maxRetryAfterMs?: number;
  maxRedirects?: number;
  /** Called before each retry's wait, so callers can log retries that would otherwise be invisible. */
  onRetry?: (retry: DownloadRetry) => void;
  /** Called as bytes arrive, at most every 100 ms (and once at the end); `total` is undefined without a length. */
  onProgress?: (downloaded: number, total: number | undefined) => void;
  signal?: AbortSignal;
  /** Sent with each request to the URL's own origin, never after a redirect to another (check with `checkRequestHeaders`). */
  headers?: Record<string, string>;
  policy?: NetworkPolicy;
}

export interface DownloadRetry {
  /** The attempt that failed (1 for the first request). */
  attempt: number;
  waitMs: number;
  cause: unknown;
}

export interface Download {
  /** The final URL after redirects (credentials and query elided). */
  url: string;
  status: number;
  contentType?: string;
  /** The server's `Content-Disposition`, which may name the file. */
  contentDisposition?: string;
  /** Declared length, when the server sent one. */
  contentLength?: number;
  stream: ReadableStream<Uint8Array>;
}
