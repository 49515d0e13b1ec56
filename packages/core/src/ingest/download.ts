/**
 * Safe streaming download: Bun's native `fetch` pinned to the address the SSRF guard checked (`download-request.ts`),
 * so the address checked is the address connected to; redirects followed by hand and re-checked on every hop; a size
 * cap enforced before and during the body; header, idle and total timeouts; retries with exponential backoff and
 * jitter for timeouts, resets, 5xx, 408, 425 and 429 (honouring `Retry-After`); an interrupted body resumes with
 * `Range` when the server supports it. Connections are kept alive and reused per checked address by `fetch`'s pool.
 */
import { FileProcessingError, FileSizeExceededError } from '../errors.ts';
import { backoffMs } from '../retry/backoff.ts';
import { retryDelayMs } from '../retry/retry-after.ts';
import { isTransientStatus } from '../retry/transient.ts';
import { withIdleTimeout } from './download-body.ts';
import { abortError, DownloadError } from './download-errors.ts';
import { type Hop, requestOnce } from './download-request.ts';
import type { Download, DownloadOptions } from './download-types.ts';
import { checkUrl, safeUrl } from './guard.ts';

export type { Download, DownloadOptions, DownloadRetry, DownloadTimeouts } from './download-types.ts';

/** The seed's default cap when the caller gives none: 50 MB. */
const DEFAULT_MAX_SIZE = 50 * 1024 * 1024;

/** Streams a URL's body. Rejects before any body byte for bad URLs, refused targets, bad statuses and oversize. */
export async function downloadFile(input: string, requested: DownloadOptions = {}): Promise<Download> {
  const options = { ...requested, maxSize: requested.maxSize ?? DEFAULT_MAX_SIZE };
  const policy = options.policy ?? {};
  const retries = options.retries ?? 3;
  const timeouts = {
    connectMs: options.timeouts?.connectMs ?? 10_000,
    firstByteMs: options.timeouts?.firstByteMs ?? 30_000,
    idleMs: options.timeouts?.idleMs ?? 30_000,
    minBytesPerSecond: options.timeouts?.minBytesPerSecond ?? 16 * 1024,
    totalMs: options.timeouts?.totalMs ?? 30 * 60_000,
  };
  const startUrl = checkUrl(input, policy);
  const shown = safeUrl(startUrl);
  const deadline = Date.now() + timeouts.totalMs;
  const retryPolicy = {
    baseMs: options.backoffMs ?? 500,
    // Our own waits are never longer than the longest a server may ask for.
    maxMs: options.maxRetryAfterMs ?? 120_000,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 120_000,
  };
  let attempts = 0;
  const total = new AbortController();
  const totalTimer = setTimeout(
    () => total.abort(new DownloadError('DOWNLOAD_TIMEOUT', 'Download took too long', shown, attempts, undefined)),
    timeouts.totalMs,
  );
  const signal = options.signal ? AbortSignal.any([options.signal, total.signal]) : total.signal;
  const context = {
    policy,
    // `fetch` reports no connect event: the connection and the first byte share one limit.
    headersMs: timeouts.connectMs + timeouts.firstByteMs,
    signal,
    attempts: () => attempts,
  };

  const fail = (error: unknown): never => {
    clearTimeout(totalTimer);
    throw error;
  };

  /** One request, following redirects, retrying what is worth retrying. */
  async function fetchWithRetries(headers: Record<string, string>): Promise<Hop> {
    for (;;) {
      attempts += 1;
      let attempt: Hop;
      try {
        attempt = await followRedirects(startUrl, headers);
      } catch (error) {
        if (signal.aborted) throw abortError(signal, shown, attempts, error);
        if (!(error instanceof FileProcessingError) || !error.transient || attempts > retries) throw error;
        await pause(backoff(attempts), error);
        continue;
      }
      const status = attempt.response.status;
      if (status >= 200 && status < 300) return attempt;
      attempt.cancel();
      const error = new DownloadError(
        'DOWNLOAD_HTTP_STATUS',
        `HTTP ${status} ${attempt.response.statusText}`.trim(),
        safeUrl(attempt.url),
        attempts,
        status,
        { transient: isTransientStatus(status) },
      );
      if (!isTransientStatus(status) || attempts > retries) throw error;
      const delayMs = retryDelayMs(attempts, attempt.response.headers.get('retry-after'), retryPolicy);
      if (delayMs === undefined) throw error;
      await pause(delayMs, error);
    }
  }

  function backoff(attempt: number): number {
    return backoffMs(attempt, retryPolicy);
  }

  async function pause(ms: number, cause: unknown): Promise<void> {
    if (Date.now() + ms > deadline) {
      throw new DownloadError('DOWNLOAD_TIMEOUT', 'No time left to retry', shown, attempts);
    }
    options.onRetry?.({ attempt: attempts, waitMs: ms, cause });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(abortError(signal, shown, attempts));
        },
        { once: true },
      );
    });
  }

  async function followRedirects(first: URL, headers: Record<string, string>): Promise<Hop> {
    const seen = new Set<string>();
    let url = first;
    // The caller's headers (credentials) go to the origin it named and nowhere else: once a redirect leaves that
    // origin they are dropped for the rest of the chain, even if it comes back.
    let sameOrigin = true;
    for (let hops = 0; ; hops++) {
      seen.add(url.href);
      sameOrigin &&= url.origin === first.origin;
      const hop = await requestOnce(url, sameOrigin ? { ...options.headers, ...headers } : headers, context);
      const status = hop.response.status;
      const location = hop.response.headers.get('location');
      if (![301, 302, 303, 307, 308].includes(status) || !location) return hop;
      hop.cancel();
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new DownloadError('DOWNLOAD_REDIRECTS', 'The redirect names no valid URL', shown, attempts, status);
      }
      if (hops + 1 > (options.maxRedirects ?? 5)) {
        throw new DownloadError('DOWNLOAD_REDIRECTS', 'Too many redirects', shown, attempts, status);
      }
      if (seen.has(next.href)) {
        throw new DownloadError('DOWNLOAD_REDIRECTS', `Redirect loop at ${safeUrl(next)}`, shown, attempts, status);
      }
      url = checkUrl(next, policy);
    }
  }

  // First attempt: everything up to the response headers.
  let attempt: Hop;
  try {
    attempt = await fetchWithRetries({});
  } catch (error) {
    return fail(error);
  }
  const { response } = attempt;
  const header = (name: string) => response.headers.get(name) ?? undefined;
  // A part of the file, unasked for, is not the file (unless the part is all of it).
  if (response.status === 206) {
    const range = /^bytes 0-(\d+)\/(\d+)$/.exec(header('content-range') ?? '');
    if (!range || Number(range[1]) + 1 !== Number(range[2])) {
      attempt.cancel();
      return fail(
        new DownloadError('DOWNLOAD_HTTP_STATUS', 'HTTP 206: the server sent part of the file', shown, attempts, 206),
      );
    }
  }
  const declared = header('content-length') ? Number(header('content-length')) : undefined;
  if (options.maxSize !== undefined && declared !== undefined && declared > options.maxSize) {
    attempt.cancel();
    return fail(new FileSizeExceededError(options.maxSize, declared, `The download (${shown})`));
  }
  // If-Range takes a strong validator only (RFC 9110 13.1.5): a weak ETag cannot say the bytes are the same.
  const etag = header('etag');
  const strongEtag = etag && !etag.startsWith('W/') ? etag : undefined;
  const lastModified = header('last-modified');
  const validator = strongEtag ?? (etag ? undefined : lastModified);
  const resumable = header('accept-ranges') === 'bytes' && Boolean(validator);

  let received = 0;
  let lastProgress = 0;
  const progress = (final = false) => {
    if (!options.onProgress) return;
    const now = Date.now();
    if (!final && now - lastProgress < 100) return;
    lastProgress = now;
    options.onProgress(received, declared);
  };

  // The hop whose body is being read (a resumed download moves on to a new one). Each hop ends itself when the
  // download's signal fires; its body then fails with that reason.
  let current: Hop = attempt;
  async function* body(): AsyncGenerator<Uint8Array> {
    try {
      yield* resumingBody();
    } finally {
      current.cancel();
    }

    /**
     * The rest of the body from `offset`. A server that cannot resume there (416 because its Content-Length lied,
     * 200 because the file changed) makes the whole download transient: the bytes already passed on cannot be
     * taken back, but a fresh attempt (the queue's retry) starts over.
     */
    async function resumeAt(offset: number, lost: unknown): Promise<Hop> {
      const cannot = (status: number | undefined, cause: unknown) =>
        new DownloadError(
          'DOWNLOAD_INTERRUPTED',
          `The connection was lost after ${offset} bytes and the server did not resume there${status ? ` (HTTP ${status})` : ''}; a new attempt starts over`,
          shown,
          attempts,
          status,
          { transient: true, cause },
        );
      let next: Hop;
      try {
        next = await fetchWithRetries({ range: `bytes=${offset}-`, 'if-range': String(validator) });
      } catch (error) {
        if (error instanceof DownloadError && error.code === 'DOWNLOAD_HTTP_STATUS') throw cannot(error.status, error);
        throw error;
      }
      const resumed = next.response.headers;
      const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(resumed.get('content-range') ?? '');
      // The part must be of the same file: a server that ignores If-Range would send the rest of another version,
      // and the two halves would be stored as a file that never existed. Its validator and length must match.
      const sameFile =
        (strongEtag ? resumed.get('etag') === strongEtag : resumed.get('last-modified') === lastModified) &&
        (declared === undefined || range?.[2] === String(declared));
      if (next.response.status !== 206 || Number(range?.[1]) !== offset || !sameFile) {
        next.cancel();
        throw cannot(next.response.status, lost);
      }
      return next;
    }

    async function* resumingBody(): AsyncGenerator<Uint8Array> {
      for (;;) {
        try {
          for await (const chunk of withIdleTimeout(current, timeouts, shown, () => attempts)) {
            received += chunk.byteLength;
            if (options.maxSize !== undefined && received > options.maxSize) {
              current.cancel();
              throw new FileSizeExceededError(options.maxSize, received, `The download (${shown})`);
            }
            progress();
            yield chunk;
          }
          if (declared !== undefined && received < declared) {
            throw new DownloadError(
              'DOWNLOAD_INTERRUPTED',
              `Body ended at ${received} of ${declared} bytes`,
              shown,
              attempts,
              undefined,
              {
                transient: true,
              },
            );
          }
          progress(true);
          return;
        } catch (error) {
          current.cancel();
          if (signal.aborted) throw abortError(signal, shown, attempts, error);
          const transient = error instanceof FileProcessingError && error.transient;
          if (!transient || !resumable || attempts > retries) {
            if (transient && !resumable && received > 0 && (error as FileProcessingError).code !== 'DOWNLOAD_TIMEOUT') {
              throw new DownloadError(
                'DOWNLOAD_INTERRUPTED',
                `Connection lost after ${received} bytes and the server does not support resuming`,
                shown,
                attempts,
                undefined,
                { transient: true, cause: error },
              );
            }
            throw error;
          }
          await pause(backoff(attempts), error);
          current = await resumeAt(received, error);
        }
      }
    }
  }

  const iterator = body();
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await iterator.next();
        if (done) {
          clearTimeout(totalTimer);
          controller.close();
        } else controller.enqueue(value);
      } catch (error) {
        clearTimeout(totalTimer);
        controller.error(error);
      }
    },
    async cancel() {
      clearTimeout(totalTimer);
      // The request first, so that a read it has in progress ends with it.
      current.cancel();
      await iterator.return(undefined);
    },
  });

  const contentType = header('content-type');
  const contentDisposition = header('content-disposition');
  return {
    url: safeUrl(attempt.url),
    status: response.status,
    ...(contentType ? { contentType } : {}),
    ...(contentDisposition ? { contentDisposition } : {}),
    ...(declared !== undefined ? { contentLength: declared } : {}),
    stream,
  };
}

/** The seed's `download_fal_file`: the whole body as bytes (use `downloadFile` for anything large). */
export async function downloadBytes(
  url: string,
  options: DownloadOptions = {},
): Promise<{ bytes: Uint8Array; contentType?: string; url: string }> {
  const download = await downloadFile(url, options);
  const bytes = new Uint8Array(await new Response(download.stream).arrayBuffer());
  return { bytes, url: download.url, ...(download.contentType ? { contentType: download.contentType } : {}) };
}
