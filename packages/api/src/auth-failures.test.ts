import { expect, test } from 'bun:test';
import { ApiKeyStore, openDatabase } from '@mediaforge/core';
import { AuthFailureLimiter } from './auth-failures.ts';
import { ApiError } from './errors.ts';
import { KeyVerifier } from './key-verifier.ts';

const madeUp = (i: number) => `mfk_${i.toString(16).padStart(12, '0')}_${'x'.repeat(43)}`;

test('an address past its failed key checks is refused (429, Retry-After) without a lookup; others and cached keys pass', async () => {
  const database = await openDatabase();
  await database.migrate();
  try {
    const store = new ApiKeyStore(database.db);
    const { key } = await store.create({ userId: 'alice' });
    const { key: fresh } = await store.create({ userId: 'carol' });
    let lookups = 0;
    const verifier = new KeyVerifier({
      verify: (presented: string) => {
        lookups += 1;
        return store.verify(presented);
      },
      touch: (keyId: string) => store.touch(keyId),
    });
    const failures = new AuthFailureLimiter(5, 100);
    expect((await failures.verify(verifier, key, 'attacker'))?.userId).toBe('alice');
    for (let i = 0; i < 5; i++) expect(await failures.verify(verifier, madeUp(i), 'attacker')).toBeNull();
    const before = lookups;
    const refused = await failures.verify(verifier, madeUp(99), 'attacker').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect((refused as ApiError).details.retryAfterSeconds).toBeGreaterThan(0);
    expect(lookups).toBe(before);
    // A key verified moments ago is served from the cache, even from the refused address.
    expect((await failures.verify(verifier, key, 'attacker'))?.userId).toBe('alice');
    // A key that would need a lookup waits like any other from there; elsewhere it passes.
    await expect(failures.verify(verifier, fresh, 'attacker')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect((await failures.verify(verifier, fresh, 'elsewhere'))?.userId).toBe('carol');
    expect(await failures.verify(verifier, madeUp(7), 'elsewhere')).toBeNull();
  } finally {
    await database.close();
  }
}, 30_000);

test('a known-good key passes an exhausted address to its lookup: a revocation this server missed still refuses it', async () => {
  const database = await openDatabase();
  await database.migrate();
  try {
    const store = new ApiKeyStore(database.db);
    const { key, info } = await store.create({ userId: 'alice' });
    // No NOTIFY listener here: the revocation below reaches this verifier only through the lookup.
    const verifier = new KeyVerifier(store, { cacheMs: 1 });
    const failures = new AuthFailureLimiter(3, 100);
    expect((await failures.verify(verifier, key, '2001:db8::1'))?.userId).toBe('alice');
    for (let i = 0; i < 3; i++) expect(await failures.verify(verifier, madeUp(i), '2001:db8::2')).toBeNull();
    await Bun.sleep(5);
    expect(verifier.cached(key)).toBeUndefined();
    expect((await failures.verify(verifier, key, '2001:db8::3'))?.userId).toBe('alice');
    await store.revoke(info.id);
    await Bun.sleep(5);
    expect(await failures.verify(verifier, key, '2001:db8::3')).toBeNull();
    await expect(failures.verify(verifier, key, '2001:db8::3')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  } finally {
    await database.close();
  }
}, 30_000);
