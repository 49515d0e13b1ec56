import { expect, test } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeyStore, createLogger, loadSettings, openDatabase } from '@mediaforge/core';
import { createTestPostgres, skipPostgres } from '@mediaforge/core/testing';
import { createFileStore } from '@mediaforge/storage';
import { KeyVerifier } from './key-verifier.ts';

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
      { maxEntries: 100 },
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

test('known good: only keys that verified, for knownGoodMs, at most maxKnownGood of them (oldest dropped), until revoked', async () => {
  const database = await openDatabase();
  await database.migrate();
  try {
    const store = new ApiKeyStore(database.db);
    const made = await Promise.all([0, 1, 2].map((i) => store.create({ userId: `user-${i}` })));
    const [first, second, third] = made.map((created) => created.key) as [string, string, string];
    const verifier = new KeyVerifier(store, { knownGoodMs: 200, maxKnownGood: 2 });
    const madeUp = `mfk_000000000000_${'A'.repeat(43)}`;
    expect(await verifier.verify(madeUp)).toBeNull();
    expect(verifier.knownGood(madeUp)).toBe(false);
    // A key's id with a wrong secret is another key: not known good.
    expect(verifier.knownGood(`${first.slice(0, -4)}AAAA`)).toBe(false);
    await verifier.verify(first);
    await verifier.verify(second);
    expect(verifier.knownGood(first)).toBe(true);
    await verifier.verify(third);
    expect(verifier.knownGood(first)).toBe(false);
    expect(verifier.knownGood(third)).toBe(true);
    verifier.forget((made[1] as { info: { id: string } }).info.id);
    expect(verifier.knownGood(second)).toBe(false);
    expect(verifier.cached(second)).toBeUndefined();
    await Bun.sleep(250);
    expect(verifier.knownGood(third)).toBe(false);
  } finally {
    await database.close();
  }
}, 30_000);

test.skipIf(skipPostgres)(
  'a revocation from another process evicts the key from every server cache',
  async () => {
    const postgres = await createTestPostgres();
    const server = await openDatabase({ url: postgres.url });
    // The revoking side is another connection pool, as `mediaforge keys revoke` in another process would be.
    const cli = await openDatabase({ url: postgres.url });
    try {
      await server.migrate();
      const { createApp } = await import('./app.ts');
      const { app, close } = createApp({
        database: server,
        store: createFileStore({ root: mkdtempSync(join(tmpdir(), 'mediaforge-auth-')) }),
        settings: loadSettings({ env: { LOG_LEVEL: 'silent' } }),
        logger: createLogger({ level: 'silent' }),
      });
      const { key, info } = await new ApiKeyStore(cli.db).create({ userId: 'dave' });
      const call = () => app.request('/v1/records', { headers: { authorization: `Bearer ${key}` } });
      expect((await call()).status).toBe(200);
      await Bun.sleep(200); // the server's LISTEN is up before the revocation is sent
      await new ApiKeyStore(cli.db).revoke(info.id);
      let status = 200;
      for (let i = 0; i < 40 && status === 200; i++) {
        await Bun.sleep(25);
        status = (await call()).status;
      }
      expect(status).toBe(401);
      await close();
    } finally {
      await cli.close();
      await server.close();
      await postgres.drop();
    }
  },
  30_000,
);
