/**
 * Serves the app with Bun.serve. Slow or stalled clients cannot hold the server: a connection idle for
 * API_IDLE_TIMEOUT_SECONDS is closed (Bun also drops requests whose headers are incomplete after ~10 s), a body that
 * stops sending for API_BODY_TIMEOUT_SECONDS gets a 408, and callers without a key may have at most
 * API_MAX_ANONYMOUS_REQUESTS bodies in flight. Routes that legitimately take long (uploads once streaming, SSE,
 * synchronous generation) lift the idle timeout for their own request through `c.env.keepOpen()`.
 */
import { createApp } from './app.ts';
import { guardBody } from './body-guard.ts';
import type { ApiDeps, ApiEnv } from './env.ts';
import type { ErrorBody } from './errors.ts';

export interface ServeOptions extends ApiDeps {
  /** Defaults: API_HOST and API_PORT (0 picks a free port). */
  host?: string;
  port?: number;
}

export interface StartedServer {
  url: URL;
  server: Bun.Server<undefined>;
  /** Stops accepting, lets requests in flight finish (SSE streams are closed), and stops the app's timers. */
  stop(force?: boolean): Promise<void>;
}

const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function startServer(options: ServeOptions): StartedServer {
  const { app, close } = createApp(options);
  const { api } = options.settings;
  // Uploads are bounded by MAX_FILE_SIZE_MB in the route; this is the hard ceiling above it, enforced by guardBody
  // so that even this 413 has the one error shape (Bun's own limit is set out of the way).
  const maxBody = options.settings.maxFileSizeBytes + 1024 * 1024;
  let anonymous = 0;
  const server = Bun.serve({
    hostname: options.host ?? api.host,
    port: options.port ?? api.port,
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    idleTimeout: api.idleTimeoutSeconds,
    async fetch(request, server) {
      const hasBody = !BODYLESS.has(request.method) && request.body !== null;
      const counted = hasBody && isAnonymous(request);
      if (counted && anonymous >= api.maxAnonymousRequests) {
        return overloaded(api.maxAnonymousRequests);
      }
      let held = false;
      const env: ApiEnv['Bindings'] = {
        keepOpen: () => {
          held = true;
          server.timeout(request, 0);
        },
      };
      const guarded = hasBody
        ? new Request(request, {
            body: guardBody(request.body as ReadableStream<Uint8Array>, {
              idleMs: api.bodyTimeoutMs,
              maxBytes: maxBody,
            }),
            duplex: 'half',
          } as RequestInit)
        : request;
      if (counted) anonymous += 1;
      try {
        const response = await app.fetch(guarded, env);
        // A finished upload or generation hands its connection back to the idle timeout; a stream keeps it lifted.
        if (held && !response.headers.get('content-type')?.startsWith('text/event-stream')) {
          server.timeout(request, api.idleTimeoutSeconds);
        }
        return response;
      } finally {
        if (counted) anonymous -= 1;
      }
    },
  });
  return {
    url: new URL(`http://${server.hostname}:${server.port}`),
    server,
    async stop(force = false) {
      await Promise.all([close(), server.stop(force)]);
    },
  };
}

/** No key presented (or a sign-in, whose key is in the body): the caller is not known yet. */
/**
 * Requests whose body is read before any key is verified: everything outside `/v1` (sign-in, dashboard forms).
 * `/v1` checks the key before it reads a body, so a made-up Authorization header or cookie buys nothing there.
 */
function isAnonymous(request: Request): boolean {
  return !new URL(request.url).pathname.startsWith('/v1/');
}

function overloaded(limit: number): Response {
  const requestId = crypto.randomUUID();
  const body: ErrorBody = {
    error: {
      code: 'SERVER_BUSY',
      message: 'Too many requests without an API key are in flight; retry shortly.',
      details: { limit },
      requestId,
    },
  };
  return Response.json(body, {
    status: 503,
    headers: { 'Retry-After': '1', 'X-Request-Id': requestId, Connection: 'close' },
  });
}
