/**
 * The S3 and Supabase SDKs and pino-pretty load only when used (drivers/s3.ts, drivers/supabase.ts, core's logger):
 * a process storing on the local disk, logging JSON, never pays their ~170 ms. Checked in a fresh process, by the
 * modules it holds.
 */
import { expect, test } from 'bun:test';
import { join } from 'node:path';

const SCRIPT = `
const storage = await import(${JSON.stringify(join(import.meta.dir, 'index.ts'))});
const core = await import('@mediaforge/core');
core.createLogger({ pretty: false, level: 'info' });
const s3 = storage.createS3Store({ bucket: 'b', endpoint: 'http://127.0.0.1:1', forcePathStyle: true, publicBucket: true });
const supabase = storage.createSupabaseStore({ url: 'http://127.0.0.1:1', serviceRoleKey: 'k', bucket: 'b' });
const loaded = () => Object.keys(require.cache).filter((path) => /@aws-sdk|@smithy|@supabase|pino-pretty/.test(path)).length;
const before = loaded();
const url = s3.objectUrl('audio/a b.wav') + ' ' + supabase.objectUrl('audio/x.wav');
const afterUrls = loaded();
await s3.head('audio/x.wav').catch(() => {});
console.log(JSON.stringify({ before, afterUrls, afterUse: loaded(), url }));
`;

test('a process that does not use S3, Supabase or a terminal loads none of their packages', async () => {
  const proc = Bun.spawn(['bun', '-e', SCRIPT], { cwd: import.meta.dir, stdout: 'pipe', stderr: 'pipe' });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  expect(await proc.exited, err).toBe(0);
  const result = JSON.parse(out.trim().split('\n').pop() as string);
  expect(result.before).toBe(0);
  // Addresses need no SDK.
  expect(result.afterUrls).toBe(0);
  expect(result.url).toBe(
    'http://127.0.0.1:1/b/audio/a%20b.wav http://127.0.0.1:1/storage/v1/object/authenticated/b/audio/x.wav',
  );
  // The first real call loads the SDK.
  expect(result.afterUse).toBeGreaterThan(0);
});
