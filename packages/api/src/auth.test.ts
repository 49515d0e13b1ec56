import { expect, test } from 'bun:test';
import { ApiKeyStore, openDatabase } from '@mediaforge/core';
import { KeyVerifier } from './auth.ts';

test('a flood of made-up keys never evicts a valid key from the verifier cache', async () => {
  const database = await openDatabase();
  await database.migrate();
  try {
    const store = new ApiKeyStore(database.db);
    const { key } = await store.create({ userId: 'alice' });
    let lookups = 0;
    // The real key store, with its lookups counted.
    const verifier = new KeyVerifier(
      {
        verify: (presented: string) => {
          lookups += 1;
          return store.verify(presented);
        },
        touch: (keyId: string) => store.touch(keyId),
      },
      100,
    );
    expect((await verifier.verify(key))?.userId).toBe('alice');
    for (let i = 0; i < 300; i++) expect(await verifier.verify(`mfk_${i}_made-up`)).toBeNull();
    const before = lookups;
    expect((await verifier.verify(key))?.userId).toBe('alice');
    expect(lookups).toBe(before);
    // A refused key is not looked up again while it is cached either.
    expect(await verifier.verify('mfk_299_made-up')).toBeNull();
    expect(lookups).toBe(before);
  } finally {
    await database.close();
  }
}, 30_000);
