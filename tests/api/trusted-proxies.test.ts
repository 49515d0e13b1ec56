// Real servers on loopback: behind a trusted proxy the per-address limits count the address X-Forwarded-For names;
// without API_TRUSTED_PROXIES the header changes nothing, so a client cannot escape them by naming another address.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { join } from 'node:path';
import { AUTH_FAILURE_LIMITS, type StartedServer, startServer } from '@mediaforge/api';
import { createLogger, type Database, loadSettings, openDatabase } from '@mediaforge/core';
import { createTestPostgres, type TestPostgres } from '@mediaforge/core/testing';
import { createFileStore } from '@mediaforge/storage';
import { tempDir } from '../support/cli.ts';

let postgres: TestPostgres;
let database: Database;
const servers: Record<'trusting' | 'plain', StartedServer> = {} as never;

beforeAll(async () => {
  postgres = await createTestPostgres();
  database = await openDatabase({ url: postgres.url });
  await database.migrate();
  const home = tempDir();
  for (const [name, proxies] of [
    ['trusting', '127.0.0.1,::1'],
    ['plain', ''],
  ] as const) {
    servers[name] = startServer({
      database,
      store: createFileStore({ root: join(home, 'objects') }),
      settings: loadSettings({ env: { MEDIAFORGE_HOME: home, LOG_LEVEL: 'silent', API_TRUSTED_PROXIES: proxies } }),
      logger: createLogger({ level: 'silent' }),
      host: '127.0.0.1',
      port: 0,
    });
  }
});
afterAll(async () => {
  for (const server of Object.values(servers)) await server.stop(true);
  await database.close();
  await postgres.drop();
});

const madeUp = (i: number) => `mfk_${i.toString(16).padStart(12, '0')}_${'z'.repeat(43)}`;
const tryKey = (server: StartedServer, i: number, forwardedFor: string) =>
  fetch(new URL('/v1/records', server.url), {
    headers: { authorization: `Bearer ${madeUp(i)}`, 'x-forwarded-for': forwardedFor },
  }).then((response) => response.status);

test('behind a trusted proxy, failed key checks are counted per forwarded client, and forged hops do not help', async () => {
  const server = servers.trusting;
  for (let i = 0; i < AUTH_FAILURE_LIMITS.perMinute; i++) expect(await tryKey(server, i, '198.51.100.7')).toBe(401);
  expect(await tryKey(server, 1000, '198.51.100.7')).toBe(429);
  // The same client forging an entry left of the one its proxy appended is still 198.51.100.7.
  expect(await tryKey(server, 1001, '198.51.100.8, 198.51.100.7')).toBe(429);
  // Another client behind the same proxy has its own budget.
  expect(await tryKey(server, 1002, '198.51.100.8')).toBe(401);
});

test('without API_TRUSTED_PROXIES, X-Forwarded-For is ignored: the connecting address is limited', async () => {
  const server = servers.plain;
  for (let i = 0; i < AUTH_FAILURE_LIMITS.perMinute; i++) {
    expect(await tryKey(server, i, `203.0.113.${i % 250}`)).toBe(401);
  }
  expect(await tryKey(server, 2000, '203.0.113.251')).toBe(429);
});
