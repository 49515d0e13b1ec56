/** An API app on a test backend with three keys (alice, bob, an admin), called through `app.request()`. */
import { afterAll, beforeAll } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '@mediaforge/api';
import { ApiKeyStore, createLogger, type Database, loadSettings, openDatabase, type Settings } from '@mediaforge/core';
import { createTestPostgres } from '@mediaforge/core/testing';
import { createFileStore, type ObjectStore } from '@mediaforge/storage';

export const FIXTURES = join(import.meta.dir, '../../packages/core/test/fixtures');

export interface TestApi {
  app: ReturnType<typeof createApp>['app'];
  close(): Promise<void>;
  settings: Settings;
  store: ObjectStore;
  database: Database;
  keys: { alice: string; bob: string; admin: string };
  /** `app.request` with a key (by name) and optional JSON body. */
  call(
    method: string,
    path: string,
    options?: {
      as?: 'alice' | 'bob' | 'admin' | null;
      json?: unknown;
      body?: BodyInit;
      headers?: Record<string, string>;
    },
  ): Promise<Response>;
}

export async function createTestApi(
  database: Database,
  env: Record<string, string> = {},
  store?: ObjectStore,
): Promise<TestApi> {
  const home = mkdtempSync(join(tmpdir(), 'mediaforge-api-'));
  const settings = loadSettings({ env: { MEDIAFORGE_HOME: home, LOG_LEVEL: 'silent', ...env } });
  const objects = store ?? createFileStore({ root: join(home, 'objects') });
  const { app, close } = createApp({
    database,
    store: objects,
    settings,
    logger: createLogger({ level: 'silent' }),
    eventIntervalMs: 50,
  });
  const keyStore = new ApiKeyStore(database.db);
  const suffix = Math.random().toString(36).slice(2, 8);
  const keys = {
    alice: (await keyStore.create({ userId: `alice-${suffix}` })).key,
    bob: (await keyStore.create({ userId: `bob-${suffix}` })).key,
    admin: (await keyStore.create({ userId: `ops-${suffix}`, admin: true })).key,
  };
  return {
    app,
    close,
    settings,
    store: objects,
    database,
    keys,
    async call(method, path, { as = 'alice', json, body, headers = {} } = {}) {
      const all: Record<string, string> = { ...headers };
      if (as) all.authorization = `Bearer ${keys[as]}`;
      if (json !== undefined) all['content-type'] = 'application/json';
      return app.request(path, {
        method,
        headers: all,
        ...(json !== undefined ? { body: JSON.stringify(json) } : body !== undefined ? { body } : {}),
      });
    },
  };
}

export async function errorOf(response: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await response.json()) as { error: { code: string; message: string } };
  return { status: response.status, code: body.error.code, message: body.error.message };
}

/**
 * The test file's API on a PostgreSQL database of its own: made before its tests, dropped after. Read `api` inside
 * tests (it is set once `beforeAll` has run).
 */
export function useApiOnPostgres(env: Record<string, string> = {}): { readonly api: TestApi } {
  let api: TestApi | undefined;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const postgres = await createTestPostgres();
    const database = await openDatabase({ url: postgres.url });
    drop = async () => {
      await database.close();
      await postgres.drop();
    };
    await database.migrate();
    api = await createTestApi(database, env);
  });
  afterAll(async () => {
    await api?.close();
    await drop?.();
  });
  return {
    get api() {
      if (!api) throw new Error('useApiOnPostgres: the API is made in beforeAll');
      return api;
    },
  };
}
