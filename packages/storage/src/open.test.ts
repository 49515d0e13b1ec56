import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadSettings } from '@mediaforge/core';
import { openObjectStore } from './open.ts';
import { startS3Server, type TestS3Server } from './testing/s3-server.ts';
import { startSupabaseStorageServer, type TestSupabaseServer } from './testing/supabase-server.ts';

describe('openObjectStore picks the driver STORAGE_URL names', () => {
  let home = '';
  let s3: TestS3Server;
  let supabase: TestSupabaseServer;
  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'mediaforge-open-'));
    [s3, supabase] = await Promise.all([startS3Server(), startSupabaseStorageServer()]);
  });
  afterAll(async () => {
    await Promise.all([s3.close(), supabase.close(), rm(home, { recursive: true, force: true })]);
  });

  const roundTrip = async (env: Record<string, string>) => {
    const store = openObjectStore(loadSettings({ env: { MEDIAFORGE_HOME: home, ...env }, cwd: home }));
    await store.put('text/hello.txt', new TextEncoder().encode('hi'), { contentType: 'text/plain' });
    expect((await store.head('text/hello.txt'))?.size).toBe(2);
    return store;
  };

  test('the default is the local disk under MEDIAFORGE_HOME/objects', async () => {
    const store = await roundTrip({});
    expect(store.driver).toBe('file');
    expect(await Bun.file(join(home, 'objects/text/hello.txt')).text()).toBe('hi');
  });

  test('s3://bucket with S3_* settings (and the seed HZ_OBJ_* aliases)', async () => {
    expect((await roundTrip(s3.env)).driver).toBe('s3');
    const hetzner = await roundTrip({
      HZ_OBJ_ENDPOINT: s3.endpoint,
      HZ_OBJ_ACCESS_KEY: 'S3RVER',
      HZ_OBJ_SECRET_KEY: 'S3RVER',
      HZ_OBJ_BUCKET_NAME: s3.bucket,
    });
    expect(hetzner.driver).toBe('s3');
    expect(await hetzner.url('text/hello.txt')).toStartWith(`${s3.endpoint}/${s3.bucket}/text/hello.txt?`);
  });

  test('supabase://bucket with SUPABASE_* settings', async () => {
    expect((await roundTrip(supabase.env)).driver).toBe('supabase');
  });

  test('a bad STORAGE_URL or missing credentials is a ConfigError', () => {
    expect(() => loadSettings({ env: { STORAGE_URL: 'ftp://x' } })).toThrow(ConfigError);
    expect(() => loadSettings({ env: { STORAGE_URL: 'supabase://media' } })).toThrow(/SUPABASE_URL/);
    expect(() => loadSettings({ env: { S3_PART_SIZE_MB: '4' } })).toThrow(/S3_PART_SIZE_MB/);
  });
});
