/**
 * A short-lived cache in front of the system resolver. `dns.lookup` (getaddrinfo, on the runtime's thread pool) has
 * no cache of its own, and since downloads connect to the checked address themselves (decision 0053) every request
 * resolves its host: a batch of 1,000 files from one CDN name asked the resolver 1,000 times. Answers are kept for
 * `ttlMs` (30 s, about curl's 60 s DNS cache halved; getaddrinfo gives no TTL), lookups of a name already in flight
 * share one answer, failures are not kept, and at most `max` names are held (the oldest is dropped first).
 *
 * The SSRF guard is unchanged: every address is checked on every use (`resolveChecked`), cached or not. A cached
 * answer only makes the address stable for the TTL, which narrows rebinding rather than widening it.
 */
export type Resolver = (host: string) => Promise<{ address: string; family: number }[]>;

export function cachedResolver(resolve: Resolver, { ttlMs = 30_000, max = 1000 } = {}): Resolver {
  const answers = new Map<string, { expires: number; addresses: Promise<{ address: string; family: number }[]> }>();
  return (host) => {
    const key = host.toLowerCase();
    const now = Date.now();
    const held = answers.get(key);
    if (held && held.expires > now) return held.addresses.then((addresses) => addresses.map((a) => ({ ...a })));
    if (held) answers.delete(key);
    const addresses = resolve(host);
    answers.set(key, { expires: now + ttlMs, addresses });
    if (answers.size > max) answers.delete(answers.keys().next().value as string);
    // A failed lookup is not kept: the next caller asks again.
    addresses.catch(() => {
      if (answers.get(key)?.addresses === addresses) answers.delete(key);
    });
    return addresses.then((list) => list.map((a) => ({ ...a })));
  };
}
