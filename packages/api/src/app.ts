/**
 * The mediaforge HTTP API: `createApp(deps)` builds the Hono app (routes, OpenAPI document, dashboard); `AppType`
 * types a `hono/client` for TypeScript users. Middleware order: HEAD bodies released → request context (request id,
 * logger, security headers, metrics) → method/path override headers refused → CORS → JSON body limit → key check,
 * failed checks per address and rate limit (everything under /v1; /metrics needs an admin key or METRICS_TOKEN) →
 * JSON depth limit → routes.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { requireKey, requireMetricsAccess } from './auth.ts';
import { dashboardRoutes } from './dashboard/routes.tsx';
import { docsRoutes } from './docs.ts';
import type { ApiDeps, ApiEnv } from './env.ts';
import { ApiError, errorResponse } from './errors.ts';
import { jsonDepthLimit } from './json-depth.ts';
import { refuseOverrideHeaders } from './override-headers.ts';
import { requestContext } from './request-context.ts';
import { directUploadRoutes } from './routes/direct-uploads.ts';
import { generationRoutes } from './routes/generations.ts';
import { recordFileRoutes } from './routes/record-files.ts';
import { recordRoutes } from './routes/records.ts';
import { scheduleRoutes } from './routes/schedules.ts';
import { metricsRoutes, publicRoutes } from './routes/system.ts';
import { taskExtraRoutes } from './routes/task-extras.ts';
import { taskRoutes } from './routes/tasks.ts';
import { thumbnailRoutes } from './routes/thumbnails.ts';
import { usageRoutes } from './routes/usage.ts';
import { createServices, type Services } from './services.ts';
import { TUS_REQUEST_HEADERS, TUS_RESPONSE_HEADERS } from './tus/tus-headers.ts';
import { tusRoutes } from './tus/tus-routes.ts';

/** Routes whose bodies are files, bounded by MAX_FILE_SIZE_MB as they stream instead of the JSON limit. */
const UPLOAD_PATH = /^\/v1\/(records\/[^/]+\/file|direct-uploads\/[^/]+|uploads(\/[^/]+)?)$/;
/** Requests that carry no body: the JSON body limits have nothing to check (the server drops any body they send). */
const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS']);

function buildApp(services: Services) {
  const { settings, logger, metrics } = services;
  const app = new OpenAPIHono<ApiEnv>();

  // Hono answers HEAD with the GET route's status and headers and drops its body unread; a file's body holds an open
  // descriptor (an S3 body, a connection) until it is cancelled.
  app.use(async (c, next) => {
    await next();
    if (c.req.method === 'HEAD') await c.res.body?.cancel().catch(() => {});
  });
  app.use(requestContext(logger, metrics));
  app.use(refuseOverrideHeaders());
  if (settings.api.corsOrigins.length > 0) {
    const origins = settings.api.corsOrigins;
    app.use(
      '/v1/*',
      cors({
        origin: origins.includes('*') ? '*' : origins,
        allowHeaders: ['Authorization', 'Content-Type', 'Range', ...TUS_REQUEST_HEADERS],
        allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
        exposeHeaders: [
          'Location',
          'X-Request-Id',
          'Content-Range',
          'Retry-After',
          'RateLimit-Remaining',
          ...TUS_RESPONSE_HEADERS,
        ],
        maxAge: 600,
      }),
    );
  }
  const jsonLimit = bodyLimit({
    maxSize: settings.api.maxJsonBytes,
    onError: () => {
      throw new ApiError(
        413,
        'PAYLOAD_TOO_LARGE',
        `Request bodies are limited to ${settings.api.maxJsonBytes} bytes.`,
        {
          limitBytes: settings.api.maxJsonBytes,
        },
      );
    },
  });
  // The key is checked before any body is read: a caller with a made-up key gets its 401 at once, instead of
  // holding up to API_MAX_JSON_KB of memory while it dribbles a body in.
  const { verifier, limiter, authFailures } = services;
  app.use('/v1/*', requireKey(verifier, limiter, authFailures));
  app.use('/metrics', requireMetricsAccess(verifier, limiter, authFailures, settings.api.metricsToken));
  const skipBodyChecks = (c: Context<ApiEnv>) => BODYLESS.has(c.req.method) || UPLOAD_PATH.test(c.req.path);
  // Each such request holds its body, parsed, until it is answered: a key may have only so many in flight.
  app.use('/v1/*', async (c, next) => {
    if (skipBodyChecks(c) || c.req.raw.body === null) return next();
    const release = services.jsonRequests.acquire(c.get('principal').keyId);
    try {
      await next();
    } finally {
      release();
    }
  });
  app.use('*', (c, next) => (skipBodyChecks(c) ? next() : jsonLimit(c, next)));
  // After the key check: a body is read only for a caller who may send one.
  const depthLimit = jsonDepthLimit();
  app.use('*', (c, next) => (skipBodyChecks(c) ? next() : depthLimit(c, next)));

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key from `mediaforge keys create --user ID`',
  });
  app.onError((error, c) => {
    if (error instanceof HTTPException) return errorResponse(fromHttpException(error), c);
    return errorResponse(error, c);
  });
  app.notFound((c) => errorResponse(new ApiError(404, 'NOT_FOUND', `No route for ${c.req.method} ${c.req.path}.`), c));

  const routes = app
    .route('/', publicRoutes(services))
    .route('/', metricsRoutes(services))
    .route('/v1', recordRoutes(services))
    .route('/v1', recordFileRoutes(services))
    .route('/v1', directUploadRoutes(services))
    .route('/v1', thumbnailRoutes(services))
    .route('/v1', tusRoutes(services))
    .route('/v1', taskRoutes(services))
    .route('/v1', taskExtraRoutes(services))
    .route('/v1', scheduleRoutes(services))
    .route('/v1', generationRoutes(services))
    .route('/v1', usageRoutes(services));
  // Built once, on the first request, and served from memory: building it costs ~0.15 s of CPU, and the route needs
  // no key (third attacker's F8: eight loops fetching it slowed every other request to seconds).
  let openApi: string | undefined;
  app.get('/openapi.json', (c) => {
    openApi ??= JSON.stringify(routes.getOpenAPI31Document(openApiConfig(services.version)));
    return c.body(openApi, 200, { 'Content-Type': 'application/json' });
  });
  app.route('/', docsRoutes());
  app.route('/', dashboardRoutes(services));
  return routes;
}

function openApiConfig(version: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'mediaforge API',
      version,
      description:
        'Records in, verified media files out: create records, upload or ingest files, generate sample media, ' +
        'and follow background tasks. Every /v1 route and /metrics need `Authorization: Bearer <key>`.',
    },
    servers: [{ url: '/' }],
  };
}

/** The app and what it owns; `close()` stops its timers and listeners (the caller closes the database). */
export function createApp(deps: ApiDeps) {
  const services = createServices(deps);
  const app = buildApp(services);
  return { app, services, close: () => services.close() };
}

export type AppType = ReturnType<typeof buildApp>;

function fromHttpException(error: HTTPException): ApiError {
  if (error.status === 400 && /json/i.test(error.message)) {
    return new ApiError(400, 'MALFORMED_JSON', 'The request body is not valid JSON.');
  }
  if (error.status === 413) return new ApiError(413, 'PAYLOAD_TOO_LARGE', error.message || 'Request body too large.');
  const status = error.status >= 400 && error.status < 600 ? error.status : 500;
  return new ApiError(status as 400, 'HTTP_ERROR', error.message || `HTTP ${status}`);
}
