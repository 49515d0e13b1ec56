import { expect, test } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeyStore, createLogger, loadSettings, openDatabase } from '@mediaforge/core';
import { createTestPostgres, skipPostgres } from '@mediaforge/core/testing';
import { createFileStore } from '@mediaforge/storage';
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
