/**
 * Serves the app with Bun.serve. Slow or stalled clients cannot hold the server: a connection idle for
 * API_IDLE_TIMEOUT_SECONDS is closed (Bun also drops requests whose headers are incomplete after ~10 s), a body that
 * stops sending for API_BODY_TIMEOUT_SECONDS gets a 408, and callers without a key may have at most
 * API_MAX_ANONYMOUS_REQUESTS bodies in flight. Routes that legitimately take long (uploads once streaming, SSE,
 * synchronous generation) lift the idle timeout for their own request through `c.env.keepOpen()`.
 */
import { clientAddressResolver, type Logger } from '@mediaforge/core';
import { createApp } from './app.ts';
import { guardBody } from './body-guard.ts';
import { clientNetwork } from './client-network.ts';
import type { ApiDeps, ApiEnv } from './env.ts';
import { type ErrorBody, errorAnswer } from './errors.ts';
import { hotRoutes } from './hot-routes.ts';
import { SECURITY_HEADERS } from './request-context.ts';

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
/**
 * Bodies read before any key is verified (sign-in, dashboard forms) are small and quick, so one client trickling
 * them cannot hold the anonymous slots for long: 64 KiB at most (refused at once when Content-Length says more),
 * all of it within 10 s, and at most 8 of them in flight per client (an IPv4 address or an IPv6 /64, see clientNetwork).
 */
export const ANONYMOUS_BODY_LIMITS = { maxBytes: 64 * 1024, deadlineMs: 10_000, perClient: 8 } as const;

export function startServer(options: ServeOptions): StartedServer {
  const { app, services, close } = createApp(options);
  const { api } = options.settings;
  // Uploads are bounded by MAX_FILE_SIZE_MB in the route; this is the hard ceiling above it, enforced by guardBody
  // so that even this 413 has the one error shape (Bun's own limit is set out of the way).
  const maxBody = options.settings.maxFileSizeBytes + 1024 * 1024;
  let anonymous = 0;
  const anonymousByClient = new Map<string, number>();
  // The connecting address, or behind a trusted proxy the one its X-Forwarded-For names (API_TRUSTED_PROXIES).
  const resolveClient = clientAddressResolver(api.trustedProxies);
  const clientOf = (request: Request, server: Bun.Server<undefined>) =>
    resolveClient(server.requestIP(request)?.address, request.headers.get('x-forwarded-for'));
  const hot = hotRoutes(services, {
    fetch: (request, server) => app.fetch(request, { clientAddress: clientOf(request, server) }),
  });
  const server = Bun.serve({
    hostname: options.host ?? api.host,
    port: options.port ?? api.port,
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    idleTimeout: api.idleTimeoutSeconds,
    // Bun's development mode answers an error that escapes the app with an HTML page showing the server's paths and
    // source; whatever NODE_ENV says, such an error gets the one error shape instead (see `escaped`).
    development: false,
    error: (error) => escaped(error, options.logger),
    // GET /health and GET /v1/records/{uid} without Hono's dispatch (hot-routes.ts); anything else goes to fetch.
    ...(hot ? { routes: hot } : {}),
    async fetch(request, server) {
      const hasBody = !BODYLESS.has(request.method) && request.body !== null;
      const counted = hasBody && isAnonymous(request);
      const address = clientOf(request, server);
      const client = counted ? clientNetwork(address) : '';
      if (counted) {
        if (anonymous >= api.maxAnonymousRequests) return overloaded(api.maxAnonymousRequests);
        if ((anonymousByClient.get(client) ?? 0) >= ANONYMOUS_BODY_LIMITS.perClient) {
          return overloaded(ANONYMOUS_BODY_LIMITS.perClient, 'from this address');
        }
        const declared = Number(request.headers.get('content-length') ?? 0);
        if (declared > ANONYMOUS_BODY_LIMITS.maxBytes) return tooLarge(ANONYMOUS_BODY_LIMITS.maxBytes);
      }
      let held = false;
      let bodyFailure: unknown;
      const env: ApiEnv['Bindings'] = {
        bodyFailure: () => bodyFailure,
        clientAddress: address,
        keepOpen: () => {
          held = true;
          server.timeout(request, 0);
        },
      };
      const guarded = hasBody
        ? new Request(request, {
            body: guardBody(request.body as ReadableStream<Uint8Array>, {
              idleMs: api.bodyTimeoutMs,
              minBytesPerSecond: api.bodyMinBytesPerSecond,
              ...(counted ? ANONYMOUS_BODY_LIMITS : { maxBytes: maxBody }),
              onFail: (error) => {
                bodyFailure = error;
              },
            }),
            duplex: 'half',
          } as RequestInit)
        : request;
      if (counted) {
        anonymous += 1;
        anonymousByClient.set(client, (anonymousByClient.get(client) ?? 0) + 1);
      }
      try {
        const response = await app.fetch(guarded, env);
        // A finished upload or generation hands its connection back to the idle timeout; a stream keeps it lifted.
        if (held && !response.headers.get('content-type')?.startsWith('text/event-stream')) {
          server.timeout(request, api.idleTimeoutSeconds);
        }
        return response;
      } finally {
        if (counted) {
          anonymous -= 1;
          const left = (anonymousByClient.get(client) ?? 1) - 1;
          if (left > 0) anonymousByClient.set(client, left);
          else anonymousByClient.delete(client);
        }
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

/**
 * The answer to an error that escaped the app, which catches what its handlers throw: a response body that fails
 * before its first byte is sent. A 500 in the one error shape, with a request id the log line carries and the
 * security headers, never the error's own message.
 */
function escaped(error: unknown, logger: Logger): Response {
  const requestId = crypto.randomUUID();
  const answer = errorAnswer(error, requestId, false, () => logger.child({ requestId }));
  const headers = new Headers(SECURITY_HEADERS as [string, string][]);
  headers.set('content-type', 'application/json');
  headers.set('x-request-id', requestId);
  return new Response(JSON.stringify(answer.body), { status: answer.status, headers });
}

/**
 * Requests whose body is read before any key is verified: everything outside `/v1` (sign-in, dashboard forms).
 * `/v1` checks the key before it reads a body, so a made-up Authorization header or cookie buys nothing there.
 */
function isAnonymous(request: Request): boolean {
  return !new URL(request.url).pathname.startsWith('/v1/');
}

function overloaded(limit: number, scope = ''): Response {
  const message = `Too many requests without an API key are in flight${scope ? ` ${scope}` : ''}; retry shortly.`;
  return refusal(503, { code: 'SERVER_BUSY', message, details: { limit } }, { 'Retry-After': '1' });
}

function tooLarge(limitBytes: number): Response {
  const message = `Requests without an API key may send at most ${limitBytes} bytes.`;
  return refusal(413, { code: 'PAYLOAD_TOO_LARGE', message, details: { limitBytes } });
}

/** An error answered before the app runs, in the one error shape; the connection is closed (its body is unread). */
function refusal(status: number, error: Omit<ErrorBody['error'], 'requestId'>, headers: Record<string, string> = {}) {
  const requestId = crypto.randomUUID();
  const body: ErrorBody = { error: { ...error, requestId } };
  return Response.json(body, { status, headers: { ...headers, 'X-Request-Id': requestId, Connection: 'close' } });
}
