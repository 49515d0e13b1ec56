/**
 * One webhook request: a POST through the SSRF guard (the same `lookup` as URL ingest, so the address checked is
 * the address used), no redirects followed, one deadline for connect + response, and at most `maxResponseBytes` of
 * the answer read (the rest is dropped with the socket). Never throws: every ending is a `PostResult`.
 */
import http from 'node:http';
import https from 'node:https';
import { checkUrl, type NetworkPolicy, portOf, safeUrl } from '../../ingest/guard.ts';
import { guardedLookup } from '../../ingest/guarded-lookup.ts';

export interface PostOptions {
  url: string;
  body: string;
  headers: Record<string, string>;
  policy: NetworkPolicy;
  timeoutMs: number;
  /** Bytes of the response kept (and read) at most. */
  maxResponseBytes: number;
}

export interface PostResult {
  /** The HTTP status, or null when no response came. */
  status: number | null;
  /** The first bytes of the answer (as text), or what went wrong. */
  snippet: string;
  error?: string;
  /** False for refusals that will never pass (the guard, a bad URL): no point retrying. */
  retryable: boolean;
}

export function postWebhook(options: PostOptions): Promise<PostResult> {
  let url: URL;
  try {
    url = checkUrl(options.url, options.policy);
  } catch (error) {
    return Promise.resolve({ status: null, snippet: '', error: (error as Error).message, retryable: false });
  }
  const shown = safeUrl(url);
  return new Promise<PostResult>((resolve) => {
    let settled = false;
    const chunks: Buffer[] = [];
    let kept = 0;
    const finish = (result: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve(result);
    };
    const client = url.protocol === 'https:' ? https : http;
    const request = client.request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(options.body)),
        'user-agent': 'mediaforge-webhooks',
        ...options.headers,
      },
      lookup: guardedLookup(options.policy, shown, portOf(url)),
      agent: false,
    });
    const timer = setTimeout(
      () =>
        finish({
          status: null,
          snippet: '',
          error: `no complete answer within ${options.timeoutMs} ms`,
          retryable: true,
        }),
      options.timeoutMs,
    );
    request.on('error', (error: NodeJS.ErrnoException) => {
      // The guard's refusal arrives here through the lookup; it is final, unlike a reset or a refused connection.
      const refused = (error as { code?: string }).code === 'URL_NOT_ALLOWED';
      finish({ status: null, snippet: '', error: error.message.slice(0, 500), retryable: !refused });
    });
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      const done = () =>
        finish({ status, snippet: Buffer.concat(chunks).toString('utf8').replaceAll('\0', ''), retryable: true });
      response.on('data', (chunk: Buffer) => {
        const room = options.maxResponseBytes - kept;
        if (room > 0) {
          const part = chunk.subarray(0, room);
          chunks.push(part);
          kept += part.length;
        }
        // Enough read: the status is known, the rest of a huge answer is not our problem.
        if (kept >= options.maxResponseBytes) done();
      });
      response.on('end', done);
      response.on('error', done);
    });
    request.end(options.body);
  });
}
