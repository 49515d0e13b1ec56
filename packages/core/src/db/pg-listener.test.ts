/**
 * The LISTEN connection against real PostgreSQL behind a TCP proxy on loopback that resets the first connections
 * (what a worker met when it started while the database flapped: `read ECONNRESET`, exit 1, found by the chaos suite).
 */
import { afterAll, describe, expect, test } from 'bun:test';
import postgres from 'postgres';
import { skipPostgres, TEST_DATABASE_URL } from '../testing/backends.ts';
import { startTcpProxy } from '../testing/tcp-proxy.ts';
import { createPgListener } from './pg-listener.ts';

let resetsLeft = 0;
const proxy = startTcpProxy(new URL(TEST_DATABASE_URL), {
  refuse: () => {
    if (resetsLeft === 0) return false;
    resetsLeft -= 1;
    return true;
  },
});
afterAll(() => proxy.stop());

describe.skipIf(skipPostgres)('LISTEN on PostgreSQL', () => {
  test('a first LISTEN whose connection is reset does not fail: it is listened to again, and notifications arrive', async () => {
    const proxied = new URL(TEST_DATABASE_URL);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    resetsLeft = 2;
    const listener = createPgListener(postgres, proxied.href);
    const direct = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
    try {
      const received: string[] = [];
      const channel = `mf_listener_test_${process.pid}`;
      // Before the fix this threw the reset (`read ECONNRESET` / CONNECTION_CLOSED) at once.
      const unlisten = await listener.listen(channel, (payload) => received.push(payload));
      for (let i = 0; i < 100 && received.length === 0; i++) {
        await direct.notify(channel, `hello ${i}`);
        await Bun.sleep(50);
      }
      expect(received.length).toBeGreaterThan(0);
      // Both resets happened: the notifications came over a connection opened after them.
      expect(resetsLeft).toBe(0);
      await unlisten();
    } finally {
      await listener.close();
      await direct.end({ timeout: 1 });
    }
  });

  test('a LISTEN the server refuses is still the caller’s error', async () => {
    const listener = createPgListener(postgres, TEST_DATABASE_URL);
    try {
      // A channel name longer than PostgreSQL's identifier limit is truncated, not refused; an empty one is refused.
      await expect(listener.listen('', () => {})).rejects.toThrow();
    } finally {
      await listener.close();
    }
  });
});
