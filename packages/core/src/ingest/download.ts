/**
 * Safe streaming download: `node:http`/`https` with a `lookup` that runs the SSRF guard, so the address checked is
 * the address connected to; redirects followed by hand and re-checked on every hop; a size cap enforced before and
 * during the body; connect, first-byte, idle and total timeouts; retries with exponential backoff and jitter for
 * timeouts, resets, 5xx, 408, 425 and 429 (honouring `Retry-After`); an interrupted body resumes with `Range` when the
 * server supports it. Connections are kept alive and reused per origin (`download-agents.ts`).
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { FileProcessingError, FileSizeExceededError } from '../errors.ts';
import { backoffMs } from '../retry/backoff.ts';
import { retryDelayMs } from '../retry/retry-after.ts';
import { isTransientStatus } from '../retry/transient.ts';
import { agentFor } from './download-agents.ts';
import { withIdleTimeout } from './download-body.ts';
import { abortError, DownloadError, networkError } from './download-errors.ts';
import type { Download, DownloadOptions } from './download-types.ts';
import { checkUrl, safeUrl } from './guard.ts';
import { guardedLookup } from './guarded-lookup.ts';

export type { Download, DownloadOptions, DownloadRetry, DownloadTimeouts } from './download-types.ts';

/** The seed's default cap when the caller gives none: 50 MB. */
const DEFAULT_MAX_SIZE = 50 * 1024 * 1024;

interface Attempt {
  response: IncomingMessage;
  url: URL;
}

/** Streams a URL's body. Rejects before any body byte for bad URLs, refused targets, bad statuses and oversize. */
export async function downloadFile(input: string, requested: DownloadOptions = {}): Promise<Download> {
  const options = { ...requested, maxSize: requested.maxSize ?? DEFAULT_MAX_SIZE };
  const policy = options.policy ?? {};
  const retries = options.retries ?? 3;
  const timeouts = {
    connectMs: options.timeouts?.connectMs ?? 10_000,
    firstByteMs: options.timeouts?.firstByteMs ?? 30_000,
    idleMs: options.timeouts?.idleMs ?? 30_000,
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

  const fail = (error: unknown): never => {
    clearTimeout(totalTimer);
    throw error;
  };

  /** One request, following redirects, retrying what is worth retrying. */
  async function fetchWithRetries(headers: Record<string, string>): Promise<Attempt> {
    for (;;) {
      attempts += 1;
      let attempt: Attempt;
      try {
        attempt = await followRedirects(startUrl, headers);
      } catch (error) {
        if (signal.aborted) throw abortError(signal, shown, attempts, error);
        if (!(error instanceof FileProcessingError) || !error.transient || attempts > retries) throw error;
        await pause(backoff(attempts), error);
        continue;
      }
      const status = attempt.response.statusCode ?? 0;
      if (status >= 200 && status < 300) return attempt;
      attempt.response.resume();
      const error = new DownloadError(
        'DOWNLOAD_HTTP_STATUS',
        `HTTP ${status} ${attempt.response.statusMessage ?? ''}`.trim(),
        safeUrl(attempt.url),
        attempts,
        status,
        { transient: isTransientStatus(status) },
      );
      if (!isTransientStatus(status) || attempts > retries) throw error;
      const delayMs = retryDelayMs(attempts, attempt.response.headers['retry-after'], retryPolicy);
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

  async function followRedirects(first: URL, headers: Record<string, string>): Promise<Attempt> {
    const seen = new Set<string>();
    let url = first;
    // The caller's headers (credentials) go to the origin it named and nowhere else: once a redirect leaves that
    // origin they are dropped for the rest of the chain, even if it comes back.
    let sameOrigin = true;
    for (let hop = 0; ; hop++) {
      seen.add(url.href);
      sameOrigin &&= url.origin === first.origin;
      const response = await requestOnce(url, sameOrigin ? { ...options.headers, ...headers } : headers);
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (![301, 302, 303, 307, 308].includes(status) || !location) return { response, url };
      response.resume();
      const next = new URL(location, url);
      if (hop + 1 > (options.maxRedirects ?? 5)) {
        throw new DownloadError('DOWNLOAD_REDIRECTS', 'Too many redirects', shown, attempts, status);
      }
      if (seen.has(next.href)) {
        throw new DownloadError('DOWNLOAD_REDIRECTS', `Redirect loop at ${safeUrl(next)}`, shown, attempts, status);
      }
      url = checkUrl(next, policy);
    }
  }

  function requestOnce(url: URL, headers: Record<string, string>): Promise<IncomingMessage> {
    const shownHop = safeUrl(url);
    const lookup = guardedLookup(policy, shownHop);
    const client = url.protocol === 'https:' ? https : http;
    return new Promise<IncomingMessage>((resolve, reject) => {
      let settled = false;
      const done = (error?: unknown, response?: IncomingMessage) => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        clearTimeout(firstByteTimer);
        signal.removeEventListener('abort', onAbort);
        if (error) {
          request.destroy();
          reject(error);
        } else resolve(response as IncomingMessage);
      };
      const request = client.request(url, {
        method: 'GET',
        headers: { 'user-agent': 'mediaforge', accept: '*/*', ...headers },
        lookup,
        // Kept-alive connections, pooled per network policy: every new connection runs `lookup` (the guard), so a
        // pooled socket is one connected to an address this same policy allowed for this same host and port.
        agent: agentFor(policy, url.protocol === 'https:'),
      });
      const onAbort = () => done(abortError(signal, shownHop, attempts));
      signal.addEventListener('abort', onAbort, { once: true });
      const connectTimer = setTimeout(
        () =>
          done(
            new DownloadError(
              'DOWNLOAD_TIMEOUT',
              `Could not connect within ${timeouts.connectMs} ms`,
              shownHop,
              attempts,
              undefined,
              {
                transient: true,
              },
            ),
          ),
        timeouts.connectMs,
      );
      let firstByteTimer: ReturnType<typeof setTimeout> | undefined;
      request.on('socket', (socket) => {
        const connected = () => {
          clearTimeout(connectTimer);
          firstByteTimer = setTimeout(
            () =>
              done(
                new DownloadError(
                  'DOWNLOAD_TIMEOUT',
                  `No response within ${timeouts.firstByteMs} ms`,
                  shownHop,
                  attempts,
                  undefined,
                  {
                    transient: true,
                  },
                ),
              ),
            timeouts.firstByteMs,
          );
        };
        if (!socket.connecting) connected();
        else socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', connected);
      });
      request.on('response', (response) => done(undefined, response));
      request.on('error', (error: NodeJS.ErrnoException) => done(networkError(error, shownHop, attempts)));
      request.end();
    });
  }

  // First attempt: everything up to the response headers.
  let attempt: Attempt;
  try {
    attempt = await fetchWithRetries({});
  } catch (error) {
    return fail(error);
  }
  const { response } = attempt;
  const declared = response.headers['content-length'] ? Number(response.headers['content-length']) : undefined;
  if (options.maxSize !== undefined && declared !== undefined && declared > options.maxSize) {
    response.destroy();
    return fail(new FileSizeExceededError(options.maxSize, declared, `The download (${shown})`));
  }
  const validator = response.headers.etag ?? response.headers['last-modified'];
  const resumable = response.headers['accept-ranges'] === 'bytes' && Boolean(validator);

  let received = 0;
  let lastProgress = 0;
  const progress = (final = false) => {
    if (!options.onProgress) return;
    const now = Date.now();
    if (!final && now - lastProgress < 100) return;
    lastProgress = now;
    options.onProgress(received, declared);
  };

  async function* body(): AsyncGenerator<Uint8Array> {
    let current: IncomingMessage = response;
    const onAbort = () => current.destroy(abortError(signal, shown, attempts));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      yield* resumingBody();
    } finally {
      signal.removeEventListener('abort', onAbort);
    }

    /**
     * The rest of the body from `offset`. A server that cannot resume there (416 because its Content-Length lied,
     * 200 because the file changed) makes the whole download transient: the bytes already passed on cannot be
     * taken back, but a fresh attempt (the queue's retry) starts over.
     */
    async function resumeAt(offset: number, lost: unknown): Promise<IncomingMessage> {
      const cannot = (status: number | undefined, cause: unknown) =>
        new DownloadError(
          'DOWNLOAD_INTERRUPTED',
          `The connection was lost after ${offset} bytes and the server did not resume there${status ? ` (HTTP ${status})` : ''}; a new attempt starts over`,
          shown,
          attempts,
          status,
          { transient: true, cause },
        );
      let next: Attempt;
      try {
        next = await fetchWithRetries({ range: `bytes=${offset}-`, 'if-range': String(validator) });
      } catch (error) {
        if (error instanceof DownloadError && error.code === 'DOWNLOAD_HTTP_STATUS') throw cannot(error.status, error);
        throw error;
      }
      const range = /^bytes (\d+)-/.exec(String(next.response.headers['content-range'] ?? ''));
      if (next.response.statusCode !== 206 || Number(range?.[1]) !== offset) {
        next.response.destroy();
        throw cannot(next.response.statusCode, lost);
      }
      return next.response;
    }

    async function* resumingBody(): AsyncGenerator<Uint8Array> {
      for (;;) {
        try {
          for await (const chunk of withIdleTimeout(current, timeouts.idleMs, shown, () => attempts)) {
            received += chunk.byteLength;
            if (options.maxSize !== undefined && received > options.maxSize) {
              current.destroy();
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
          current.destroy();
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
      await iterator.return(undefined);
      response.destroy();
    },
  });

  return {
    url: safeUrl(attempt.url),
    status: response.statusCode ?? 200,
    ...(response.headers['content-type'] ? { contentType: response.headers['content-type'] } : {}),
    ...(response.headers['content-disposition'] ? { contentDisposition: response.headers['content-disposition'] } : {}),
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
