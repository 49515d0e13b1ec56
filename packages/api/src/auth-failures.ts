/**
 * Failed key checks per client (an IPv4 address or an IPv6 /64). A made-up key of the right shape costs a database
 * lookup, so a client that keeps presenting wrong keys is refused (429 RATE_LIMITED with Retry-After) before its next
 * lookup. Only keys the server does not know are refused: a key in the verifier's 10-second cache costs nothing, and
 * a key that verified in the last hour (known good) goes on to its lookup, so users behind an address under a flood of
 * bad keys keep working for as long as it lasts. A key never seen here waits like a made-up one: telling the two
 * apart is the lookup the limit is there to save.
 */
import type { ApiPrincipal } from '@mediaforge/core';
import type { Context } from 'hono';
import { clientNetwork } from './client-network.ts';
import type { ApiEnv } from './env.ts';
import { ApiError } from './errors.ts';
import type { KeyVerifier } from './key-verifier.ts';
import { RateLimiter } from './rate-limit.ts';

/**
 * Failed verifications one client may burst, refilled at this many per minute; clients remembered (least recently
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
   * The principal for `presented`, or null; a client past its failures is refused before the lookup unless the key
   * is known good. `address` is the request's; every address of an IPv6 /64 shares one count.
   * @throws ApiError 429 RATE_LIMITED
   */
  async verify(verifier: KeyVerifier, presented: string, address: string): Promise<ApiPrincipal | null> {
    const cached = verifier.cached(presented);
    if (cached) return cached;
    const client = clientNetwork(address);
    const wait = this.buckets.waitSeconds(client);
    // A known-good key still costs its lookup (so revocation holds), at most one per cache period: no more than it
    // cost before the client's failures ran out, and no more than its holder could spend with it anyway.
    if (wait > 0 && !verifier.knownGood(presented)) {
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
        // Already empty (checks that passed at once): the next request from this client is refused.
      }
    }
    return principal;
  }
}

/** The address the request came from (the server passes it; `unknown` under `app.request()` without one). */
export function clientAddress(c: Context<ApiEnv>): string {
  return c.env?.clientAddress ?? 'unknown';
}
