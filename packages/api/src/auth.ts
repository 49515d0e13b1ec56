/**
 * Authentication: `Authorization: Bearer mfk_…` for programs, or the dashboard's HttpOnly session cookie holding
 * the same key. Verified keys are cached for 10 seconds (key-verifier.ts); a revocation (`mediaforge keys revoke`, any process) is
 * announced by NOTIFY and evicts the key from every listening server's cache at once. The 10 seconds bound only
 * what a server misses while its LISTEN connection is down. Writes authenticated by cookie must come from this origin (CSRF).
 */

import { timingSafeEqual } from 'node:crypto';
import { ALL_USERS, type ApiPrincipal, type Scope, userScope } from '@mediaforge/core';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { type AuthFailureLimiter, clientAddress } from './auth-failures.ts';
import type { ApiEnv } from './env.ts';
import { ApiError } from './errors.ts';
import type { KeyVerifier } from './key-verifier.ts';
import type { RateLimiter } from './rate-limit.ts';

export const SESSION_COOKIE = 'mediaforge_session';
/** `Authorization: Bearer <key>`; the key is the first group. */
export const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The presented key: bearer header first, then the session cookie. */
export function presentedKey(c: Context<ApiEnv>): { key: string; via: 'bearer' | 'cookie' } | undefined {
  const header = c.req.header('authorization');
  if (header) {
    const match = BEARER.exec(header);
    if (!match?.[1]) {
      throw new ApiError(401, 'UNAUTHORIZED', 'Malformed Authorization header: expected "Bearer <api key>".');
    }
    return { key: match[1], via: 'bearer' };
  }
  const cookie = getCookie(c, SESSION_COOKIE);
  return cookie ? { key: cookie, via: 'cookie' } : undefined;
}

export function requireKey(
  verifier: KeyVerifier,
  limiter: RateLimiter,
  failures: AuthFailureLimiter,
): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const presented = presentedKey(c);
    if (!presented) {
      c.header('WWW-Authenticate', 'Bearer realm="mediaforge"');
      throw new ApiError(401, 'UNAUTHORIZED', 'An API key is required: send "Authorization: Bearer <key>".');
    }
    const principal = await failures.verify(verifier, presented.key, clientAddress(c));
    if (!principal) {
      c.header('WWW-Authenticate', 'Bearer realm="mediaforge", error="invalid_token"');
      throw new ApiError(401, 'UNAUTHORIZED', 'The API key is invalid or revoked.');
    }
    if (presented.via === 'cookie' && !['GET', 'HEAD', 'OPTIONS'].includes(c.req.method)) {
      const origin = c.req.header('origin');
      if (!origin || origin !== new URL(c.req.url).origin) {
        throw new ApiError(403, 'FORBIDDEN', 'Cross-site request refused: session writes must come from this origin.');
      }
    }
    const { remaining } = limiter.take(principal.keyId);
    c.header('RateLimit-Remaining', String(remaining));
    c.set('principal', principal);
    c.set('authVia', presented.via);
    await next();
  };
}

/**
 * The scope a principal acts in: admins act for everyone (or for the user they name), other keys only for their own
 * user. Core operations take it, so ownership is checked where the data is, not here.
 */
export function principalScope(principal: ApiPrincipal, requested?: string | null): Scope {
  if (principal.admin) return requested ? userScope(requested) : ALL_USERS;
  if (requested && requested !== principal.userId) {
    throw new ApiError(403, 'FORBIDDEN', 'This key may only act for its own user.', { userId: requested });
  }
  return userScope(principal.userId);
}

/** For admin keys only: server-wide views (workers' hosts and pids, metrics). Runs after `requireKey`. */
export function requireAdmin(principal: ApiPrincipal): void {
  if (!principal.admin) throw new ApiError(403, 'FORBIDDEN', 'This needs an admin API key.');
}

/** `/metrics`: the METRICS_TOKEN (for scrapers) or an admin key. */
export function requireMetricsAccess(
  verifier: KeyVerifier,
  limiter: RateLimiter,
  failures: AuthFailureLimiter,
  token: string | undefined,
): MiddlewareHandler<ApiEnv> {
  const keyCheck = requireKey(verifier, limiter, failures);
  return async (c, next) => {
    const presented = BEARER.exec(c.req.header('authorization') ?? '')?.[1];
    if (token && presented && sameSecret(presented, token)) return next();
    return keyCheck(c, async () => {
      requireAdmin(c.get('principal'));
      await next();
    });
  };
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
