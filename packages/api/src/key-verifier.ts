/**
 * Key verification with two memories. Verified keys are cached for 10 seconds (a request costs no lookup), refused
 * ones apart so a flood of made-up keys cannot evict a valid one. Keys that verified in the last hour are also
 * remembered as known good: not to skip their lookup, but so the per-address limit on failed checks
 * (auth-failures.ts) can let them through to it. A revocation (NOTIFY) drops a key from both.
 */
import { createHash } from 'node:crypto';
import type { ApiKeyStore, ApiPrincipal } from '@mediaforge/core';

const TOUCH_EVERY_MS = 60_000;

export interface KeyVerifierOptions {
  /** Cached verifications (valid and refused apart); a full map is cleared. Default 10,000. */
  maxEntries?: number;
  /** How long a verification is served from the cache. Default 10 s. */
  cacheMs?: number;
  /** How long after its last verification a key counts as known good. Default an hour. */
  knownGoodMs?: number;
  /** Known-good keys remembered, least recently verified dropped first. Default 10,000. */
  maxKnownGood?: number;
}

export class KeyVerifier {
  private readonly valid = new Map<string, { principal: ApiPrincipal; until: number }>();
  private readonly refused = new Map<string, number>();
  private readonly touched = new Map<string, number>();
  /**
   * Digests of keys that verified, oldest verification first. A digest, not the key: this lives an hour, and a heap
   * dump should not hand out working keys. Only a successful lookup adds one, so a made-up key never gets in.
   */
  private readonly known = new Map<string, { keyId: string; at: number }>();
  private readonly maxEntries: number;
  private readonly cacheMs: number;
  private readonly knownGoodMs: number;
  private readonly maxKnownGood: number;

  constructor(
    private readonly keys: Pick<ApiKeyStore, 'verify' | 'touch'>,
    options: KeyVerifierOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.cacheMs = options.cacheMs ?? 10_000;
    this.knownGoodMs = options.knownGoodMs ?? 3_600_000;
    this.maxKnownGood = options.maxKnownGood ?? 10_000;
  }

  /** Drops every memory of a key (it was revoked). */
  forget(keyId: string): void {
    for (const [presented, entry] of this.valid) {
      if (entry.principal.keyId === keyId) this.valid.delete(presented);
    }
    for (const [digest, entry] of this.known) {
      if (entry.keyId === keyId) this.known.delete(digest);
    }
  }

  /** The principal of a key verified in the last 10 seconds, without a lookup. */
  cached(presented: string): ApiPrincipal | undefined {
    const cached = this.valid.get(presented);
    return cached && cached.until > Date.now() ? cached.principal : undefined;
  }

  /** Whether `presented` verified within the last hour (its next verification still looks it up). */
  knownGood(presented: string): boolean {
    const entry = this.known.get(digest(presented));
    return entry !== undefined && entry.at + this.knownGoodMs > Date.now();
  }

  async verify(presented: string): Promise<ApiPrincipal | null> {
    const now = Date.now();
    const cached = this.valid.get(presented);
    if (cached && cached.until > now) return cached.principal;
    if ((this.refused.get(presented) ?? 0) > now) return null;
    const principal = await this.keys.verify(presented);
    if (principal) {
      if (this.valid.size >= this.maxEntries) this.valid.clear();
      this.valid.set(presented, { principal, until: now + this.cacheMs });
      this.remember(presented, principal.keyId, now);
    } else {
      if (this.refused.size >= this.maxEntries) this.refused.clear();
      this.refused.set(presented, now + this.cacheMs);
      // Revoked while this server's LISTEN was down: it stops being known good with its first failed lookup.
      this.known.delete(digest(presented));
    }
    if (principal && (this.touched.get(principal.keyId) ?? 0) + TOUCH_EVERY_MS < now) {
      this.touched.set(principal.keyId, now);
      void this.keys.touch(principal.keyId).catch(() => {});
    }
    return principal;
  }

  private remember(presented: string, keyId: string, now: number): void {
    const id = digest(presented);
    // Re-inserted so the map stays in order of last verification, and the oldest goes first when it is full.
    this.known.delete(id);
    this.known.set(id, { keyId, at: now });
    if (this.known.size > this.maxKnownGood) {
      const oldest = this.known.keys().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
  }
}

function digest(presented: string): string {
  return createHash('sha256').update(presented).digest('base64');
}
