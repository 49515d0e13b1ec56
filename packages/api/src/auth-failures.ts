/**
 * Failed key checks per client address. A made-up key of the right shape costs a database lookup, so an address that
 * keeps presenting wrong keys is refused (429 RATE_LIMITED with Retry-After) before its next lookup. Keys already in
 * the verifier's cache cost nothing and pass, so a valid key behind a shared address keeps working while it is cached.
 */
import type { ApiPrincipal } from '@mediaforge/core';
import type { Context } from 'hono';
import type { KeyVerifier } from './auth.ts';
import type { ApiEnv } from './env.ts';
import { ApiError } from './errors.ts';
import { RateLimiter } from './rate-limit.ts';

/**
 * Failed verifications one address may burst, refilled at this many per minute; addresses remembered (least recently
 * failed forgotten first), which bounds the memory to a few MB whatever the number of attackers.
 */
export const AUTH_FAILURE_LIMITS = { perMinute: 30, maxClients: 50_000 } as const;

export class AuthFailureLimiter {
  private readonly buckets: RateLimiter;

  constructor(
    private readonly perMinute: number = AUTH_FAILURE_LIMITS.perMinute,
    maxClients: number = AUTH_FAILURE_LIMITS.maxClients,
  ) {
    this.buckets = new RateLimiter(perMinute, maxClients);
  }

  /**
   * The principal for `presented`, or null; an address past its failures is refused before the lookup.
   * @throws ApiError 429 RATE_LIMITED
   */
  async verify(verifier: KeyVerifier, presented: string, client: string): Promise<ApiPrincipal | null> {
    const cached = verifier.cached(presented);
    if (cached) return cached;
    const wait = this.buckets.waitSeconds(client);
    if (wait > 0) {
      throw new ApiError(
        429,
        'RATE_LIMITED',
        `Too many invalid API keys from this address (${this.perMinute} a minute); retry in ${wait} s.`,
        { limitPerMinute: this.perMinute, retryAfterSeconds: wait },
      );
    }
    const principal = await verifier.verify(presented);
    if (!principal) {
      try {
        this.buckets.take(client);
      } catch {
        // Already empty (checks that passed at once): the next request from this address is refused.
      }
    }
    return principal;
  }
}

/** The address the request came from (the server passes it; `unknown` under `app.request()` without one). */
export function clientAddress(c: Context<ApiEnv>): string {
  return c.env?.clientAddress ?? 'unknown';
}
