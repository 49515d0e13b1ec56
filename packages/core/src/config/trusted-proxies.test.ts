import { describe, expect, test } from 'bun:test';
import { invalidEntries } from './comma-list.ts';
import { loadSettings } from './settings.ts';
import { clientAddressResolver, parseProxyEntry } from './trusted-proxies.ts';

describe('API_TRUSTED_PROXIES', () => {
  test('entries are addresses or CIDR ranges, IPv4 or IPv6; anything else is named', () => {
    expect(parseProxyEntry('10.0.0.0/8')).toEqual(['10.0.0.0', 8, 'ipv4']);
    expect(parseProxyEntry(' 127.0.0.1 ')).toEqual(['127.0.0.1', 32, 'ipv4']);
    expect(parseProxyEntry('fd00::/8')).toEqual(['fd00::', 8, 'ipv6']);
    for (const bad of ['10.0.0.0/33', 'fd00::/129', 'proxy.internal', '10.0.0.0/8/1', '10.0.0.0/x', '10.0.0.0/']) {
      expect(parseProxyEntry(bad)).toBeUndefined();
    }
    expect(invalidEntries('10.0.0.0/8, nope,::1,,1.2.3.4/40', parseProxyEntry)).toEqual(['nope', '1.2.3.4/40']);
    expect(() => loadSettings({ env: { API_TRUSTED_PROXIES: '10.0.0.0/8,nope' } })).toThrow(/nope/);
    expect(loadSettings({ env: { API_TRUSTED_PROXIES: '10.0.0.0/8, ::1' } }).api.trustedProxies).toEqual([
      '10.0.0.0/8',
      '::1',
    ]);
  });

  test('with none trusted, the connecting address counts whatever X-Forwarded-For says', () => {
    const resolve = clientAddressResolver([]);
    expect(resolve('10.0.0.5', '203.0.113.9')).toBe('10.0.0.5');
    expect(resolve(undefined, '203.0.113.9')).toBe('unknown');
  });

  test('from a trusted proxy the header is read from the right, past every trusted hop', () => {
    const resolve = clientAddressResolver(['10.0.0.0/8', '::1']);
    expect(resolve('10.0.0.5', '203.0.113.9')).toBe('203.0.113.9');
    // A client's own forged entries sit left of the one its proxy appended: never believed.
    expect(resolve('10.0.0.5', '1.2.3.4, 203.0.113.9')).toBe('203.0.113.9');
    // Two proxies: the second's address was appended by the first (trusted), so the walk goes on past it.
    expect(resolve('10.0.0.5', '198.51.100.1, 10.9.9.9')).toBe('198.51.100.1');
    expect(resolve('::1', '2001:db8::7')).toBe('2001:db8::7');
    expect(resolve('::ffff:10.0.0.5', '203.0.113.9')).toBe('203.0.113.9');
    // Ports and brackets as some proxies write them.
    expect(resolve('10.0.0.5', '203.0.113.9:41234')).toBe('203.0.113.9');
    expect(resolve('10.0.0.5', '[2001:db8::7]:443')).toBe('2001:db8::7');
    // A hop that is not an address ends the walk at the proxy that passed it on.
    expect(resolve('10.0.0.5', '203.0.113.9, unknown')).toBe('10.0.0.5');
    expect(resolve('10.0.0.5', '203.0.113.9, 10.1.1.1, garbage')).toBe('10.0.0.5');
    // Only trusted hops: the leftmost is as far as anyone can tell.
    expect(resolve('10.0.0.5', '10.2.2.2, 10.3.3.3')).toBe('10.2.2.2');
    // No header, or a peer that is not trusted: the peer.
    expect(resolve('10.0.0.5', null)).toBe('10.0.0.5');
    expect(resolve('198.51.100.50', '203.0.113.9')).toBe('198.51.100.50');
  });

  test('a long header is walked only so far: its work is bounded, not its length', () => {
    const resolve = clientAddressResolver(['10.0.0.0/8']);
    const chain = Array.from({ length: 1000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`).join(', ');
    expect(resolve('10.0.0.5', `203.0.113.9, ${chain}`)).toMatch(/^10\./);
  });
});
