/** Who a request counts against in the per-client limits: an IPv4 address, or the /64 an IPv6 address lies in. */

/**
 * An IPv4 address as it is, or an IPv6 address's /64 network: one host is usually given a whole /64, so counting
 * single IPv6 addresses would let one machine take a fresh allowance with every address of its own.
 * @example clientNetwork('2001:db8:1:2::9') // '2001:db8:1:2::/64'
 */
export function clientNetwork(address: string | undefined): string {
  if (!address) return 'unknown';
  if (!address.includes(':')) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] as string;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
