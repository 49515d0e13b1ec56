// A flood of bad keys from one client (an address, or an IPv6 /64) through the app: keys that verified before keep
// working for as long as it lasts, past the verifier's cache; keys the server does not know wait; revocation holds.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUTH_FAILURE_LIMITS, createApp } from '@mediaforge/api';
import { ApiKeyStore, createLogger, loadSettings } from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import { createFileStore } from '@mediaforge/storage';
import { waitFor } from '../support/wait.ts';
import { errorOf } from './support.ts';

/** Short, so the test runs past the cache several times in well under a second. */
const CACHE_MS = 100;
const madeUp = (i: number) => `mfk_${i.toString(16).padStart(12, '0')}_${'A'.repeat(43)}`;

describeBackends('failed key checks under a flood', (backend) => {
  let app: ReturnType<typeof createApp>;
  let keys: ApiKeyStore;
  beforeAll(() => {
    const home = mkdtempSync(join(tmpdir(), 'mediaforge-flood-'));
    app = createApp({
      database: backend.database(),
      store: createFileStore({ root: join(home, 'objects') }),
      settings: loadSettings({ env: { MEDIAFORGE_HOME: home, LOG_LEVEL: 'silent' } }),
      logger: createLogger({ level: 'silent' }),
      keyCacheMs: CACHE_MS,
    });
    keys = new ApiKeyStore(backend.database().db);
  });
  afterAll(() => app.close());

  const from = (address: string, key: string) =>
    app.app.request('/v1/records', { headers: { authorization: `Bearer ${key}` } }, { clientAddress: address });
  let flooded = 0;
  /** The attacker's loop: as many made-up keys as the client's failures allow, then one more (429). */
  const flood = async (address: string) => {
    for (;;) {
      const status = (await from(address, madeUp(flooded++))).status;
      if (status === 429) return;
      expect(status).toBe(401);
    }
  };

  test('a key that verified before keeps working through the flood; a key never seen waits; revocation holds', async () => {
    const office = '198.51.100.7';
    const alice = await keys.create({ userId: 'alice' });
    const bob = await keys.create({ userId: 'bob' });
    expect((await from(office, alice.key)).status).toBe(200);
    await flood(office);
    for (let round = 0; round < 3; round++) {
      await Bun.sleep(CACHE_MS * 1.5);
      await flood(office);
      // Out of the cache: a lookup, which the empty bucket would refuse for an unknown key.
      expect((await from(office, alice.key)).status).toBe(200);
    }
    // A valid key this server has not seen cannot be told from a made-up one without the lookup: it waits.
    expect(await errorOf(await from(office, bob.key))).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect((await from('198.51.100.8', bob.key)).status).toBe(200);

    await keys.revoke(alice.info.id);
    await waitFor('the revocation to reach the server', async () => (await from(office, alice.key)).status !== 200);
    await Bun.sleep(CACHE_MS * 1.5);
    await flood(office);
    // No longer known good: refused by the bucket there, and by its lookup elsewhere.
    expect((await from(office, alice.key)).status).toBe(429);
    expect((await from('198.51.100.9', alice.key)).status).toBe(401);
  });

  test('every address of an IPv6 /64 shares one count of failures', async () => {
    for (let i = 0; i < AUTH_FAILURE_LIMITS.perMinute; i++) {
      expect((await from(`2001:db8:1:2::${(i + 1).toString(16)}`, madeUp(flooded++))).status).toBe(401);
    }
    expect((await from('2001:db8:1:2:ffff:ffff:ffff:ffff', madeUp(flooded++))).status).toBe(429);
    expect((await from('2001:db8:1:3::1', madeUp(flooded++))).status).toBe(401);
  });
});
