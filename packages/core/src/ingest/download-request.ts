/**
 * One HTTP request of a download, through Bun's native `fetch` pinned to an address the SSRF guard checked
 * (decision 0053). The host is resolved and every address checked (`resolveChecked`), then `fetch` connects to a
 * checked address itself (the next one when it refuses the connection): the URL names the IP, the `Host` header
 * names the host, and for https the TLS server name (SNI) and the certificate check use the host (`tls.serverName`),
 * so the address checked is the address connected to and the certificate is still verified for the name the caller
 * gave. Bun pools kept-alive connections by address
 * and TLS settings, so a pooled connection is one to an address checked under the same rules for the same name.
 *
 * Why not `node:http` any more: its parser handed every socket read to JavaScript as a fresh buffer, ~52% of the
 * main thread of a large download (BENCHMARKS.md, fourth round); `fetch` reads the socket on its own native thread.
 * On this 2-core machine that bought memory (a 1 GiB ingest peaks ~30 MiB lower), not speed: the machine's CPU,
 * not the event loop, bounds a large ingest now (fifth round).
 */
import { FileProcessingError } from '../errors.ts';
import { abortError, DownloadError, type DownloadErrorCode, networkError } from './download-errors.ts';
import { type NetworkPolicy, portOf, resolveChecked, safeUrl } from './guard.ts';
import { canonicalIp } from './ip.ts';

export interface Hop {
  response: Response;
  /** The URL asked for (before the address was pinned). */
  url: URL;
  /** Ends this request and its body; the reason (a typed error) is what a reader of the body meets. */
  cancel(reason?: unknown): void;
  /** The body was read to its end: stop listening to the download's signal (the connection goes back to the pool). */
  done(): void;
  /** The reason this request was ended, if it was. */
  readonly ended: AbortSignal;
}

export interface RequestContext {
  policy: NetworkPolicy;
  /** Time allowed for the name, the connection and the response headers together. */
  headersMs: number;
  /** The download's own signal (the caller's and the total timeout). */
  signal: AbortSignal;
  attempts: () => number;
}

/** Addresses tried in turn when one cannot be connected to (an IPv6 address on a host without IPv6, say). */
const MAX_ADDRESSES = 4;

/** Failures that mean this address could not be reached at all (no request was sent): the next one is tried. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL', 'ConnectionRefused']);

/** The URLs to connect to (the host replaced by each checked address) and what keeps the host's identity. */
async function pinned(url: URL, policy: NetworkPolicy, shown: string): Promise<{ targets: string[]; tls?: object }> {
  const literal = canonicalIp(url.hostname) !== undefined;
  const addresses = await resolveChecked(url.hostname, policy, shown, portOf(url));
  const targets = addresses.slice(0, MAX_ADDRESSES).map(({ address }) => {
    const target = new URL(url.href);
    target.hostname = address.includes(':') ? `[${address}]` : address;
    return target.href;
  });
  // A name gets its own SNI and certificate check; an IP literal is checked against itself, as any client does.
  const tls = url.protocol === 'https:' && !literal ? { serverName: url.hostname } : undefined;
  return { targets, ...(tls ? { tls } : {}) };
}

/** Sends one GET and resolves with the response headers (the body still unread); never follows a redirect. */
export async function requestOnce(url: URL, headers: Record<string, string>, context: RequestContext): Promise<Hop> {
  const shown = safeUrl(url);
  const { signal, attempts } = context;
  const hop = new AbortController();
  const onAbort = () => hop.abort(abortError(signal, shown, attempts()));
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(
    () =>
      hop.abort(
        new DownloadError(
          'DOWNLOAD_TIMEOUT',
          `No response within ${context.headersMs} ms`,
          shown,
          attempts(),
          undefined,
          {
            transient: true,
          },
        ),
      ),
    context.headersMs,
  );
  const done = () => signal.removeEventListener('abort', onAbort);
  const cancel = (reason?: unknown) => {
    done();
    if (!hop.signal.aborted) hop.abort(reason);
  };
  try {
    const { targets, tls } = await pinned(url, context.policy, shown);
    const init = {
      method: 'GET',
      headers: {
        'user-agent': 'mediaforge',
        accept: '*/*',
        // Lower-cased, so that the values set below replace a caller's `Host` or `Accept-Encoding` in any case.
        ...Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value])),
        // The body is stored as the server sent it: no compression asked for, none undone.
        'accept-encoding': 'identity',
        host: url.host,
      },
      redirect: 'manual',
      signal: hop.signal,
      decompress: false,
      // Downloads connect to the checked address themselves; `HTTP_PROXY` from the environment is not used.
      proxy: false as unknown as string,
      ...(tls ? { tls } : {}),
    } as RequestInit;
    let response: Response | undefined;
    for (const [index, target] of targets.entries()) {
      hop.signal.throwIfAborted();
      try {
        response = await fetch(target, init);
        break;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (hop.signal.aborted || index === targets.length - 1 || !UNREACHABLE.has(String(code))) throw error;
      }
    }
    clearTimeout(timer);
    return { response: response as Response, url, cancel, done, ended: hop.signal };
  } catch (error) {
    clearTimeout(timer);
    cancel();
    throw hopFailure(hop.signal, error, shown, attempts());
  }
}

/** What a failed request or body read means: the reason it was ended, a guard refusal, or a network error. */
export function hopFailure(
  ended: AbortSignal,
  error: unknown,
  shown: string,
  attempts: number,
  code: DownloadErrorCode = 'DOWNLOAD_NETWORK',
): FileProcessingError {
  if (ended.aborted && ended.reason instanceof FileProcessingError) return ended.reason;
  if (error instanceof FileProcessingError) return error;
  const failure = error as NodeJS.ErrnoException;
  // Bun names the URL it fetched in the message, query included (a signed URL's token): the shown URL replaces it.
  const message = String(failure?.message ?? failure)
    .replace(/ fetching "[^"]*"\.?/g, '')
    .replace(/ ?For more information, pass `verbose: true`[^.]*\(\)\.?/g, '')
    .replace(/https?:\/\/\S+/g, (found) => safeUrl(found));
  return networkError(
    { name: failure?.name, code: failure?.code, message } as NodeJS.ErrnoException,
    shown,
    attempts,
    code,
  );
}
