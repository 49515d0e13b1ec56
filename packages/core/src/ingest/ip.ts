/**
 * IP address parsing and classification for the SSRF guard. Every spelling a URL parser or `inet_aton` accepts
 * (decimal `2130706433`, octal `0177.0.0.1`, hex `0x7f.1`, short `127.1`, IPv6 with embedded IPv4) is normalised
 * first; then only public unicast addresses pass.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** Parses an IPv4 address in any `inet_aton` form into its 32-bit value, or undefined when it is not one. */
export function parseIPv4Loose(host: string): number | undefined {
  const parts = host.split('.');
  if (parts.length === 0 || parts.length > 4 || parts.some((part) => part === '')) return undefined;
  const values: number[] = [];
  for (const part of parts) {
    let value: number;
    if (/^0x[0-9a-f]*$/i.test(part)) value = part.length === 2 ? 0 : Number.parseInt(part.slice(2), 16);
    else if (/^0[0-7]+$/.test(part)) value = Number.parseInt(part.slice(1), 8);
    else if (/^(0|[1-9][0-9]*)$/.test(part)) value = Number(part);
    else return undefined;
    if (!Number.isSafeInteger(value)) return undefined;
    values.push(value);
  }
  const last = values.pop() as number;
  if (values.some((value) => value > 255)) return undefined;
  if (last >= 256 ** (4 - values.length)) return undefined;
  let result = last;
  for (const [index, value] of values.entries()) result += value * 256 ** (3 - index);
  return result;
}

export function formatIPv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

/** The canonical form of an IP literal host (brackets removed, IPv4 spellings normalised), or undefined. */
export function canonicalIp(host: string): string | undefined {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIPv6(bare)) return bare.toLowerCase();
  const v4 = parseIPv4Loose(bare);
  return v4 === undefined ? (isIPv4(bare) ? bare : undefined) : formatIPv4(v4);
}

const V4_BLOCKED: [string, number, string][] = [
  ['0.0.0.0', 8, 'the "this network" range'],
  ['10.0.0.0', 8, 'a private address'],
  ['100.64.0.0', 10, 'a carrier-grade NAT address'],
  ['127.0.0.0', 8, 'a loopback address'],
  ['169.254.0.0', 16, 'a link-local address (cloud metadata lives here)'],
  ['172.16.0.0', 12, 'a private address'],
  ['192.0.0.0', 24, 'an IETF protocol address'],
  ['192.0.2.0', 24, 'a documentation address'],
  ['192.88.99.0', 24, 'a 6to4 relay address'],
  ['192.168.0.0', 16, 'a private address'],
  ['198.18.0.0', 15, 'a benchmarking address'],
  ['198.51.100.0', 24, 'a documentation address'],
  ['203.0.113.0', 24, 'a documentation address'],
  ['224.0.0.0', 4, 'a multicast address'],
  ['240.0.0.0', 4, 'a reserved address'],
];

function v4Problem(value: number): string | undefined {
  for (const [base, bits, why] of V4_BLOCKED) {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if ((value & mask) >>> 0 === ((parseIPv4Loose(base) as number) & mask) >>> 0) return why;
  }
  return undefined;
}

/** Expands an IPv6 address into its eight 16-bit groups. */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4Tail) {
    const v4 = parseIPv4Loose(v4Tail[1] as string) ?? 0;
    text = `${text.slice(0, -(v4Tail[1] as string).length)}${((v4 >>> 16) & 0xffff).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const fill = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  return [...headGroups, ...Array(fill).fill('0'), ...tailGroups].map((group) => Number.parseInt(group || '0', 16));
}

function v6Problem(address: string): string | undefined {
  const g = ipv6Groups(address);
  const embedded = (((g[6] ?? 0) << 16) | (g[7] ?? 0)) >>> 0;
  const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeros(8)) return 'the unspecified address';
  if (zeros(7) && g[7] === 1) return 'a loopback address';
  if (zeros(5) && g[5] === 0xffff)
    return v4Problem(embedded) ? `an IPv4-mapped form of ${v4Problem(embedded)}` : undefined;
  if (zeros(6)) return 'an IPv4-compatible address (deprecated)';
  // ::ffff:0:0/96 (SIIT, RFC 2765) carries an IPv4 address a translator may deliver to: refused whatever it holds.
  if (zeros(4) && g[4] === 0xffff && g[5] === 0) return 'an IPv4-translated address';
  if (g[0] === 0x64 && g[1] === 0xff9b) {
    // Only the well-known /96 carries the IPv4 address in its last 32 bits. The rest of 64:ff9b::/32 is the
    // local-use prefix 64:ff9b:1::/48 (RFC 8215), whose translators may embed an address anywhere: refused whole.
    if (g[2] !== 0 || g[3] !== 0 || g[4] !== 0 || g[5] !== 0) return 'a local-use NAT64 address';
    const why = v4Problem(embedded);
    return why ? `a NAT64 form of ${why}` : undefined;
  }
  if (g[0] === 0x2002) {
    const inner = (((g[1] ?? 0) << 16) | (g[2] ?? 0)) >>> 0;
    const why = v4Problem(inner);
    return why ? `a 6to4 form of ${why}` : undefined;
  }
  const first = g[0] ?? 0;
  if ((first & 0xffc0) === 0xfe80) return 'a link-local address';
  if ((first & 0xffc0) === 0xfec0) return 'a site-local address';
  if ((first & 0xfe00) === 0xfc00) return 'a unique local (private) address';
  if ((first & 0xff00) === 0xff00) return 'a multicast address';
  if (first === 0x2001 && g[1] === 0x0db8) return 'a documentation address';
  // Teredo (2001::/32) tunnels to an IPv4 address it carries obfuscated; no media origin needs one.
  if (first === 0x2001 && g[1] === 0) return 'a Teredo tunnel address';
  if (first === 0x2001 && g[1] === 2 && g[2] === 0) return 'a benchmarking address';
  if (first === 0x0100 && zeros(0) && g[1] === 0 && g[2] === 0 && g[3] === 0) return 'a discard-only address';
  if (first === 0xfd00 && g[1] === 0x0ec2) return 'a cloud metadata address';
  return undefined;
}

/** Why an address is not public unicast (loopback, private, link-local, …), or undefined when it is. */
export function nonPublicReason(address: string): string | undefined {
  const canonical = canonicalIp(address);
  if (!canonical) return 'not an IP address';
  return isIPv6(canonical) ? v6Problem(canonical) : v4Problem(parseIPv4Loose(canonical) as number);
}
