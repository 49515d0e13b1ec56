/**
 * The two hottest reads, `GET /health` and `GET /v1/records/{uid}`, as Bun.serve `routes`: matched natively and
 * answered without Hono's dispatch, middleware chain and context (~40% of mediaforge's own CPU per read in a profile).
 * They do what the app does for the same request, with the same parts: request id, security headers, metrics, the
 * cached key check (`KeyVerifier`, evicted by NOTIFY), the per-key rate limit, the owner check in the core
 * (`RecordRepository.get` in the key's scope), the record's DTO, and typed errors in the one error shape (logged as
 * the app logs them). Anything off the common path is handed to the app before any side effect: no bearer key (the
 * session cookie, a 401), a key the verifier has not cached (the app limits failed checks per address before a
 * lookup), a method or path override header (the app refuses it), a uid that is not a UUID (the app's 400 names the issue), and
 * every request while debug logging is on (the app logs each request). With CORS configured they are not installed.
 * `OPTIONS`, `HEAD` and every other method fall through to the app.
 */
import { z } from 'zod';
import { BEARER, principalScope } from './auth.ts';
import { type ErrorBody, errorAnswer } from './errors.ts';
import { OVERRIDE_HEADERS } from './override-headers.ts';
import { requestIdOf, SECURITY_HEADERS } from './request-context.ts';
import { healthReport } from './routes/system.ts';
import { toRecordDto } from './schemas.ts';
import type { Services } from './services.ts';

type Handler = (request: Bun.BunRequest<string>, server: Bun.Server<undefined>) => Response | Promise<Response>;
/** The app's entry, given the server so it can tell which address a request came from. */
type AppFetch = (request: Request, server: Bun.Server<undefined>) => Response | Promise<Response>;

/** The pattern `z.uuid()` checks the route's `UidParam` with, compiled once. */
const UUID = z.regexes.uuid();
/** Copied per response: one native copy instead of a dozen `set` calls. */
const JSON_HEADERS = new Headers([...SECURITY_HEADERS, ['content-type', 'application/json']] as [string, string][]);
const RECORD_ROUTE = '/v1/records/:uid';

export function hotRoutes(services: Services, app: { fetch: AppFetch }): Record<string, { GET: Handler }> | undefined {
  const { settings, logger, metrics, verifier, limiter, records } = services;
  // A request with a method or path override header goes to the app, which refuses it (override-headers.ts).
  const overridden = (headers: Headers) => OVERRIDE_HEADERS.some((name) => headers.has(name));
  if (settings.api.corsOrigins.length > 0) return undefined;
  const report = healthReport(services);
  const debug = () => logger.isLevelEnabled('debug');

  const answer = (status: number, body: unknown, requestId: string, extra?: Record<string, string>) => {
    const headers = new Headers(JSON_HEADERS);
    headers.set('x-request-id', requestId);
    if (extra) for (const name in extra) headers.set(name, extra[name] as string);
    return new Response(JSON.stringify(body), { status, headers });
  };

  const health: Handler = (request, server) => {
    if (debug() || overridden(request.headers)) return app.fetch(request, server);
    const begun = performance.now();
    const response = answer(200, report(), requestIdOf(request.headers.get('x-request-id')));
    metrics.http.record('GET', '/health', 200, (performance.now() - begun) / 1000);
    return response;
  };

  const record: Handler = async (request, server) => {
    const uid = (request.params as { uid?: string }).uid ?? '';
    const presented = BEARER.exec(request.headers.get('authorization') ?? '')?.[1];
    // Only a key the verifier holds is served here: a first sight of a key, and every wrong key, goes through the
    // app, which limits failed checks per client address before it looks a key up (auth-failures.ts).
    const principal = presented ? verifier.cached(presented) : undefined;
    if (!principal || !UUID.test(uid) || debug() || overridden(request.headers)) return app.fetch(request, server);
    const begun = performance.now();
    const requestId = requestIdOf(request.headers.get('x-request-id'));
    const extra: Record<string, string> = {};
    let status = 200;
    let body: unknown;
    try {
      extra['ratelimit-remaining'] = String(limiter.take(principal.keyId).remaining);
      body = toRecordDto(await records.get(uid, principalScope(principal)));
    } catch (thrown) {
      const failed = errorAnswer(thrown, requestId, request.signal.aborted, () =>
        logger.child({ requestId, keyId: principal.keyId, userId: principal.userId }),
      );
      if (failed.retryAfterSeconds !== undefined) extra['retry-after'] = String(failed.retryAfterSeconds);
      status = failed.status;
      body = failed.body satisfies ErrorBody;
    }
    const response = answer(status, body, requestId, extra);
    metrics.http.record('GET', RECORD_ROUTE, status, (performance.now() - begun) / 1000);
    return response;
  };

  return { '/health': { GET: health }, [RECORD_ROUTE]: { GET: record } };
}
