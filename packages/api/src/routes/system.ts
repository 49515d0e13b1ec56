/** Unauthenticated probes (`/health`, `/ready`), Prometheus `/metrics`, and the dashboard's session cookie. */
import { createRoute, z } from '@hono/zod-openapi';
import { ffmpegPath } from '@mediaforge/core';
import { sql } from 'drizzle-orm';
import { deleteCookie, setCookie } from 'hono/cookie';
import { SESSION_COOKIE } from '../auth.ts';
import { clientAddress } from '../auth-failures.ts';
import { ApiError } from '../errors.ts';
import { requestLogger } from '../request-logger.ts';
import { SessionBody } from '../schemas.ts';
import type { Services } from '../services.ts';
import { errors, json, router } from './common.ts';

const READY_TIMEOUT_MS = 3000;
const started = Date.now();

const health = createRoute({
  method: 'get',
  path: '/health',
  tags: ['System'],
  summary: 'Liveness: the process answers',
  responses: {
    200: json(
      z.object({
        status: z.literal('ok'),
        version: z.string(),
        uptimeSeconds: z.number(),
        thumbnails: z
          .object({ images: z.boolean(), videos: z.boolean() })
          .openapi({ description: 'What gets a thumbnail here (videos need ffmpeg on PATH)' }),
      }),
      'Alive',
    ),
  },
});

const check = z.object({ ok: z.boolean(), latencyMs: z.number(), error: z.string().optional() });
const ReadySchema = z
  .object({ status: z.enum(['ready', 'not_ready']), database: check, storage: check })
  .openapi('Readiness');

const ready = createRoute({
  method: 'get',
  path: '/ready',
  tags: ['System'],
  summary: 'Readiness: the database and the storage answer',
  responses: { 200: json(ReadySchema, 'Ready'), 503: json(ReadySchema, 'Not ready') },
});

const metrics = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['System'],
  security: [{ bearer: [] }],
  summary: 'Prometheus metrics (text exposition format): an admin key or METRICS_TOKEN',
  responses: { 200: { description: 'Metrics', content: { 'text/plain': { schema: z.string() } } }, ...errors(403) },
});

const createSession = createRoute({
  method: 'post',
  path: '/session',
  tags: ['System'],
  summary: 'Dashboard sign-in: checks an API key and keeps it in an HttpOnly, SameSite=Strict cookie',
  request: { body: { required: true, content: { 'application/json': { schema: SessionBody } } } },
  responses: {
    200: json(z.object({ userId: z.string(), admin: z.boolean() }), 'Signed in'),
    ...errors(400),
  },
});

const deleteSession = createRoute({
  method: 'delete',
  path: '/session',
  tags: ['System'],
  summary: 'Dashboard sign-out',
  responses: { 204: { description: 'Signed out' } },
});

/** `/health`'s document (the server's hot route answers it too). */
export function healthReport(services: Pick<Services, 'version' | 'thumbnails'>) {
  // Whether ffmpeg is on PATH, looked up on the first probe rather than on every one (probes poll /health).
  let videos: boolean | undefined;
  return () => {
    videos ??= services.thumbnails && ffmpegPath() !== null;
    return {
      status: 'ok' as const,
      version: services.version,
      uptimeSeconds: (Date.now() - started) / 1000,
      thumbnails: { images: services.thumbnails, videos },
    };
  };
}

/** Routes outside `/v1` that need no key (metrics is mounted behind the key check by the app). */
export function publicRoutes(services: Services) {
  const report = healthReport(services);
  return router()
    .openapi(health, (c) => c.json(report(), 200))
    .openapi(ready, async (c) => {
      const [database, storage] = await Promise.all([
        probe(() => services.database.db.execute(sql`select 1`)),
        probe(() => services.store.head('mediaforge-ready-probe')),
      ]);
      const ok = database.ok && storage.ok;
      if (!ok) requestLogger(c)?.warn({ database, storage }, 'not ready');
      // Anyone may ask: the reasons (SQL, hosts, ports, paths) go to the log, not into the answer.
      const body = {
        status: ok ? ('ready' as const) : ('not_ready' as const),
        database: publicCheck(database),
        storage: publicCheck(storage),
      };
      return ok ? c.json(body, 200) : c.json(body, 503);
    })
    .openapi(createSession, async (c) => {
      const { key } = c.req.valid('json');
      const principal = await services.authFailures.verify(services.verifier, key, clientAddress(c));
      if (!principal) throw new ApiError(401, 'UNAUTHORIZED', 'The API key is invalid or revoked.');
      setCookie(c, SESSION_COOKIE, key, {
        httpOnly: true,
        sameSite: 'Strict',
        path: '/',
        secure: new URL(c.req.url).protocol === 'https:',
        maxAge: 12 * 3600,
      });
      return c.json({ userId: principal.userId, admin: principal.admin }, 200);
    })
    .openapi(deleteSession, (c) => {
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
      return c.body(null, 204);
    });
}

export function metricsRoutes(services: Services) {
  return router().openapi(metrics, async (c) => {
    const text = await services.metrics.exposition();
    return c.text(text, 200, { 'Content-Type': services.metrics.registry.contentType });
  });
}

function publicCheck(result: z.infer<typeof check>): z.infer<typeof check> {
  if (result.ok) return result;
  const timedOut = result.latencyMs >= READY_TIMEOUT_MS;
  return { ok: false, latencyMs: result.latencyMs, error: timedOut ? 'no answer in time' : 'unavailable' };
}

async function probe(fn: () => Promise<unknown>): Promise<z.infer<typeof check>> {
  const begun = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - begun) };
  } catch (error) {
    return { ok: false, latencyMs: Math.round(performance.now() - begun), error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
