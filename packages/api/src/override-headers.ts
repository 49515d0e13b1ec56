/**
 * Headers some proxies and frameworks read to change a request's method or path (`X-HTTP-Method-Override`,
 * `X-Original-URL`, `X-Rewrite-URL`). Nothing here honours them, and a request carrying one is refused (400
 * INVALID_HEADERS) rather than served as something other than what its sender meant, or than a proxy in front checked.
 */
import type { MiddlewareHandler } from 'hono';
import type { ApiEnv } from './env.ts';
import { ApiError } from './errors.ts';

export const OVERRIDE_HEADERS = ['x-http-method-override', 'x-original-url', 'x-rewrite-url'] as const;

export function refuseOverrideHeaders(): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const found = OVERRIDE_HEADERS.find((name) => c.req.raw.headers.has(name));
    if (found) {
      throw new ApiError(
        400,
        'INVALID_HEADERS',
        `The ${found} header is not supported: send the method and path themselves (TUS clients: leave overridePatchMethod off).`,
        { header: found },
      );
    }
    await next();
  };
}
