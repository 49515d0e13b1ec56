/** The DNS `lookup` an HTTP client connects through: every address is checked by the SSRF guard before use. */
import type { LookupFunction } from 'node:net';
import { type NetworkPolicy, resolveChecked } from './guard.ts';

/**
 * A `lookup` for `node:http(s)` that resolves through `resolveChecked`, so the address checked is the one used.
 * `port` is the port the request connects to (for `allowHosts` entries that name one).
 */
export function guardedLookup(policy: NetworkPolicy, shownUrl: string, port?: number): LookupFunction {
  return (host, lookupOptions, callback) => {
    resolveChecked(host, policy, shownUrl, port).then(
      (addresses) => {
        const wanted = lookupOptions.family ? addresses.filter((a) => a.family === lookupOptions.family) : addresses;
        const usable = wanted.length > 0 ? wanted : addresses;
        if (lookupOptions.all) callback(null, usable);
        else callback(null, usable[0]?.address as string, usable[0]?.family as number);
      },
      (error: Error) => callback(error as NodeJS.ErrnoException, '', 0),
    );
  };
}
