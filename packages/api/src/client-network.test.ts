import { expect, test } from 'bun:test';
import { clientNetwork } from './client-network.ts';

test('clients count per IPv4 address and per IPv6 /64 (one host owns a whole /64)', () => {
  expect(clientNetwork('203.0.113.7')).toBe('203.0.113.7');
  expect(clientNetwork('::ffff:203.0.113.7')).toBe('203.0.113.7');
  // Every address of one /64 is one client, however it is written.
  const network = clientNetwork('2001:db8:1:2::1');
  expect(network).toBe('2001:db8:1:2::/64');
  for (const other of ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0db8:0001:0002:0:0:0:9', '2001:DB8:1:2:a::b']) {
    expect(clientNetwork(other)).toBe(network);
  }
  expect(clientNetwork('2001:db8:1:3::1')).not.toBe(network);
  expect(clientNetwork('::1')).toBe('0:0:0:0::/64');
  expect(clientNetwork('fe80::1')).toBe('fe80:0:0:0::/64');
  expect(clientNetwork(undefined)).toBe('unknown');
});
