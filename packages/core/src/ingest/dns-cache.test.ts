import { expect, test } from 'bun:test';
import { lookup } from 'node:dns/promises';
import { cachedResolver } from './dns-cache.ts';

// The resolver under the cache is a counting function over the real system resolver (or a failing one): what is
// tested is the cache's own bookkeeping.
function counting(fail = false) {
  const calls: string[] = [];
  const resolve = async (host: string) => {
    calls.push(host);
    if (fail) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return lookup(host, { all: true, verbatim: true });
  };
  return { calls, resolve };
}

test('a name is resolved once for many lookups, in flight or after, until its answer expires', async () => {
  const { calls, resolve } = counting();
  const cached = cachedResolver(resolve, { ttlMs: 200 });
  const together = await Promise.all(Array.from({ length: 20 }, () => cached('localhost')));
  expect(together[0]?.length).toBeGreaterThan(0);
  expect(await cached('LOCALHOST')).toEqual(together[0] as never);
  expect(calls).toEqual(['localhost']);
  // A caller changing its copy does not change what others get.
  (together[0] as { address: string }[])[0] = { address: '10.0.0.1' } as never;
  expect((await cached('localhost'))[0]?.address).not.toBe('10.0.0.1');
  await Bun.sleep(250);
  await cached('localhost');
  expect(calls).toEqual(['localhost', 'localhost']);
});

test('failures are not kept, and at most `max` names are held', async () => {
  const failing = counting(true);
  const cached = cachedResolver(failing.resolve);
  await expect(cached('nowhere.invalid')).rejects.toThrow('ENOTFOUND');
  await Bun.sleep(0);
  await expect(cached('nowhere.invalid')).rejects.toThrow('ENOTFOUND');
  expect(failing.calls.length).toBe(2);

  const { calls, resolve } = counting();
  const small = cachedResolver(resolve, { max: 2 });
  for (const host of ['localhost', '127.0.0.1', '::1', 'localhost']) await small(host);
  // 'localhost' was the oldest when the third name came, so it was dropped and asked for again.
  expect(calls).toEqual(['localhost', '127.0.0.1', '::1', 'localhost']);
});
