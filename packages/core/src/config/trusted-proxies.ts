/**
 * `API_TRUSTED_PROXIES`: the reverse proxies (addresses or CIDR ranges, IPv4 or IPv6) whose `X-Forwarded-For` the API
 * believes. Behind a proxy every request arrives from the proxy's address, so the per-address limits (failed key
 * checks, anonymous bodies) would lump every client into one bucket; believing the header from anyone would let a
 * client name any address it likes and escape them. So the header is read only when the peer is a listed proxy, and
 * from the right: each hop added by a trusted proxy is believed, and the first address not itself trusted is the
 * client (what nginx's `real_ip_recursive` and Express's `trust proxy` with a list do).
 */
import { BlockList, isIP } from 'node:net';

/** One entry, parsed: `[address, prefix, family]`, or undefined when it is not an address or CIDR range. */
export function parseProxyEntry(entry: string): [string, number, 'ipv4' | 'ipv6'] | undefined {
  const [address = '', prefixText, extra] = entry.trim().split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return undefined;
  const max = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return undefined;
  return [address, prefix, version === 4 ? 'ipv4' : 'ipv6'];
}

/** At most this many `X-Forwarded-For` hops are walked (a chain of proxies is short; the header is not). */
const MAX_HOPS = 32;

/**
 * A function from a request's peer address and its `X-Forwarded-For` value to the client's address. With no trusted
 * proxies it is the peer, whatever the header says.
 */
export function clientAddressResolver(
  trusted: readonly string[],
): (peer: string | undefined, forwardedFor: string | null) => string {
  if (trusted.length === 0) return (peer) => peer ?? 'unknown';
  const list = new BlockList();
  for (const entry of trusted) {
    const parsed = parseProxyEntry(entry);
    if (!parsed) throw new Error(`API_TRUSTED_PROXIES: ${JSON.stringify(entry)} is not an address or CIDR range`);
    const [address, prefix, family] = parsed;
    list.addSubnet(address, prefix, family);
  }
  const isTrusted = (address: string) => {
    const version = isIP(address);
    return version !== 0 && list.check(address, version === 4 ? 'ipv4' : 'ipv6');
  };
  return (peer, forwardedFor) => {
    let client = peer ?? 'unknown';
    if (!forwardedFor) return client;
    const hops = forwardedFor.split(',');
    for (let i = hops.length - 1, walked = 0; i >= 0 && walked < MAX_HOPS; i--, walked++) {
      if (!isTrusted(client)) break;
      const hop = hopAddress(hops[i] as string);
      // A hop that is not an address ends the walk: the proxy that passed it on is the nearest address known.
      if (!hop) break;
      client = hop;
    }
    return client;
  };
}

/** A hop as proxies write it: `203.0.113.7`, `2001:db8::1`, and the less usual `203.0.113.7:41234` or `[2001:db8::1]:80`. */
function hopAddress(text: string): string | undefined {
  const hop = text.trim();
  if (isIP(hop)) return hop;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop)?.[1];
  if (bracketed && isIP(bracketed) === 6) return bracketed;
  const withPort = /^([\d.]+):\d+$/.exec(hop)?.[1];
  if (withPort && isIP(withPort) === 4) return withPort;
  return undefined;
}
