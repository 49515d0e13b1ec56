/**
 * The server's hot routes (`GET /health`, `GET /v1/records/{uid}` as Bun.serve routes) over real HTTP against
 * PostgreSQL: they answer what the app answers, with the same key check, rate limit, owner check, errors, headers
 * and metrics, and hand everything off their common path to the app.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeyStore, createLogger, type Database, loadSettings, openDatabase } from '@mediaforge/core';
import { createTestPostgres, skipPostgres, type TestPostgres } from '@mediaforge/core/testing';
import { createFileStore } from '@mediaforge/storage';
import { SECURITY_HEADERS } from './request-context.ts';
import { type StartedServer, startServer } from './server.ts';

const RATE = 5;
const TOKEN = 'scrape-token-for-hot-routes';

describe.skipIf(skipPostgres)('hot routes over HTTP', () => {
  let postgres: TestPostgres;
  let database: Database;
  /** Another pool on the same database, as `mediaforge keys …` in another process would be. */
  let cli: Database;
  let started: StartedServer;
  let keys: { alice: string; bob: string; admin: string; limited: string };
  let aliceRecord: string;
  const get = (path: string, key?: string, headers: Record<string, string> = {}, method = 'GET') =>
    fetch(new URL(path, started.url), {
      method,
      headers: { ...headers, ...(key ? { authorization: `Bearer ${key}` } : {}) },
    });
  const expectSecurityHeaders = (response: Response) => {
    for (const [name, value] of SECURITY_HEADERS) expect(response.headers.get(name)).toBe(value);
    expect(response.headers.get('x-request-id')).toBeTruthy();
  };

  beforeAll(async () => {
    postgres = await createTestPostgres();
    database = await openDatabase({ url: postgres.url });
    await database.migrate();
    cli = await openDatabase({ url: postgres.url });
    const store = new ApiKeyStore(cli.db);
    keys = {
      alice: (await store.create({ userId: 'alice' })).key,
      bob: (await store.create({ userId: 'bob' })).key,
      admin: (await store.create({ userId: 'ops', admin: true })).key,
      limited: (await store.create({ userId: 'carol' })).key,
    };
    const home = mkdtempSync(join(tmpdir(), 'mediaforge-hot-'));
    started = startServer({
      database,
      store: createFileStore({ root: join(home, 'objects') }),
      settings: loadSettings({
        env: { MEDIAFORGE_HOME: home, LOG_LEVEL: 'silent', API_RATE_LIMIT_PER_MINUTE: '5', METRICS_TOKEN: TOKEN },
      }),
      logger: createLogger({ level: 'silent' }),
      host: '127.0.0.1',
      port: 0,
    });
    const created = await fetch(new URL('/v1/records', started.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ mediaType: 'audio', title: 'hot', userId: 'alice' }),
    });
    aliceRecord = ((await created.json()) as { uid: string }).uid;
  });
  afterAll(async () => {
    await started.stop(true);
    await cli.close();
    await database.close();
    await postgres.drop();
  });

  test('a record read answers the document the app answers, with every header', async () => {
    const response = await get(`/v1/records/${aliceRecord}`, keys.alice, { 'x-request-id': 'trace-7' });
    expect(response.status).toBe(200);
    expectSecurityHeaders(response);
    expect(response.headers.get('x-request-id')).toBe('trace-7');
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(Number(response.headers.get('ratelimit-remaining'))).toBeLessThan(RATE);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.uid).toBe(aliceRecord);
    expect(body.userId).toBe('alice');
    expect(body).not.toHaveProperty('claimToken');
    expect(body).not.toHaveProperty('thumbnailKey');
    // The same request through the app (HEAD and other methods are not hot routes; the list is not either).
    const list = await get(`/v1/records?userId=alice`, keys.admin);
    const listed = ((await list.json()) as { items: Record<string, unknown>[] }).items;
    expect(listed).toEqual([body]);
  });

  test("another user's record, an unknown one and a malformed uid: the app's typed errors, with every header", async () => {
    const hidden = await get(`/v1/records/${aliceRecord}`, keys.bob);
    expect(hidden.status).toBe(404);
    expectSecurityHeaders(hidden);
    expect(hidden.headers.get('ratelimit-remaining')).not.toBeNull();
    const error = ((await hidden.json()) as { error: { code: string; requestId: string } }).error;
    expect(error.code).toBe('RECORD_NOT_FOUND');
    expect(error.requestId).toBe(hidden.headers.get('x-request-id') as string);
    const unknown = await get(`/v1/records/${crypto.randomUUID()}`, keys.admin);
    expect(unknown.status).toBe(404);
    const malformed = await get('/v1/records/not-a-uid', keys.admin);
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_ERROR');
    expectSecurityHeaders(malformed);
    const unrouted = await get('/v1/nowhere', keys.admin);
    expect(unrouted.status).toBe(404);
    expectSecurityHeaders(unrouted);
  });

  test('no key, a made-up key, a revoked key from another process: 401 at once', async () => {
    const none = await get(`/v1/records/${aliceRecord}`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expectSecurityHeaders(none);
    expect((await get(`/v1/records/${aliceRecord}`, 'mfk_made_up')).status).toBe(401);
    const { key, info } = await new ApiKeyStore(cli.db).create({ userId: 'alice' });
    expect((await get(`/v1/records/${aliceRecord}`, key)).status).toBe(200);
    await Bun.sleep(200); // the server's LISTEN is up before the revocation is sent
    await new ApiKeyStore(cli.db).revoke(info.id);
    let status = 200;
    for (let i = 0; i < 40 && status === 200; i++) {
      await Bun.sleep(25);
      status = (await get(`/v1/records/${aliceRecord}`, key)).status;
    }
    expect(status).toBe(401);
  }, 30_000);

  test('the rate limit takes one token per read, then 429 with Retry-After', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < RATE + 1; i++) statuses.push((await get(`/v1/records/${aliceRecord}`, keys.limited)).status);
    // carol's own reads of alice's record are 404s: each still takes exactly one token.
    expect(statuses).toEqual([...Array(RATE).fill(404), 429]);
    const limited = await get(`/v1/records/${aliceRecord}`, keys.limited);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expectSecurityHeaders(limited);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
  });

  test('/health (GET and HEAD) and the metrics count every hot read once', async () => {
    // The scraper's token takes no rate-limit token; each key here has 5 requests a minute.
    const scrape = async () => (await get('/metrics', TOKEN)).text();
    const { key: dave } = await new ApiKeyStore(cli.db).create({ userId: 'dave', admin: true });
    const count = (text: string, route: string, status: number) =>
      Number(
        new RegExp(`mediaforge_http_requests_total\\{method="GET",route="${route}",status="${status}"\\} (\\d+)`).exec(
          text,
        )?.[1] ?? 0,
      );
    const before = await scrape();
    for (let i = 0; i < 3; i++) {
      const health = await get('/health');
      expect(health.status).toBe(200);
      expectSecurityHeaders(health);
      expect(((await health.json()) as { status: string }).status).toBe('ok');
    }
    const head = await get('/health', undefined, {}, 'HEAD');
    expect(head.status).toBe(200);
    expectSecurityHeaders(head);
    expect((await get(`/v1/records/${aliceRecord}`, dave)).status).toBe(200);
    expect((await get(`/v1/records/${aliceRecord}`, keys.bob)).status).toBe(404);
    const after = await scrape();
    // HEAD is counted as the GET it is answered by, as Hono has always counted it.
    expect(count(after, '/health', 200) - count(before, '/health', 200)).toBe(4);
    expect(count(after, '/v1/records/:uid', 200) - count(before, '/v1/records/:uid', 200)).toBe(1);
    expect(count(after, '/v1/records/:uid', 404) - count(before, '/v1/records/:uid', 404)).toBe(1);
    expect(after).toMatch(
      /mediaforge_http_request_duration_seconds_bucket\{method="GET",route="\/health",le="\+Inf"\} \d+/,
    );
    expect(after).toMatch(/mediaforge_http_request_duration_seconds_count\{method="GET",route="\/health"\} \d+/);
  });
  test('an override header is refused and failed key checks are limited per address, as through the app', async () => {
    for (const header of ['x-http-method-override', 'x-original-url', 'x-rewrite-url']) {
      for (const path of ['/health', `/v1/records/${aliceRecord}`]) {
        const refused = await get(path, keys.alice, { [header]: '/v1/records' });
        expect(refused.status).toBe(400);
        expectSecurityHeaders(refused);
        expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('INVALID_HEADERS');
      }
    }
    // Made-up keys from one address: 401 until the address has used up its failures, then 429 before any lookup.
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      statuses.push((await get(`/v1/records/${aliceRecord}`, `mfk_made_up_${crypto.randomUUID()}`)).status);
    }
    expect(statuses).toContain(401);
    expect(statuses.at(-1)).toBe(429);
    // A key the server already holds still reads from that address.
    expect((await get(`/v1/records/${aliceRecord}`, keys.alice)).status).toBe(200);
  });
});
