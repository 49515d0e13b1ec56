// Big list pages through the app: GET /v1/records and GET /v1/generations/{id} with limit=1000 over records of
// ~15 KiB answer about 1 MiB, not 15 MB, and nextCursor pages through every record once.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { RECORD_PAGE_BYTES } from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import { createTestApi, type TestApi } from './support.ts';

const RECORDS = 120;
/** A record's JSON in an answer is ~15 KiB of metadata plus its other fields. */
const RECORD_BYTES = 16 * 1024;

describeBackends('API record pages within a byte budget', (backend) => {
  let api: TestApi;
  let created: string[];
  beforeAll(async () => {
    api = await createTestApi(backend.database(), { API_MAX_JSON_KB: '4096' });
    const records = Array.from({ length: RECORDS }, (_, i) => ({
      mediaType: 'text',
      generationId: 'big-pages',
      metadata: { i, blob: 'x'.repeat(15_000) },
    }));
    const response = await api.call('POST', '/v1/records', { as: 'bob', json: { records } });
    expect(response.status).toBe(201);
    created = ((await response.json()) as { items: { uid: string }[] }).items.map((record) => record.uid);
  });
  afterAll(() => api.close());

  /** Follows nextCursor from `path`; every answer must stay near the budget. */
  const pageThrough = async (path: string, itemsOf: (body: Record<string, unknown>) => { uid: string }[]) => {
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    do {
      const response = await api.call('GET', `${path}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
        as: 'bob',
      });
      expect(response.status).toBe(200);
      const text = await response.text();
      sizes.push(text.length);
      const body = JSON.parse(text) as Record<string, unknown> & { nextCursor?: string };
      seen.push(...itemsOf(body).map((record) => record.uid));
      cursor = body.nextCursor;
    } while (cursor);
    return { seen, sizes };
  };

  test('GET /v1/records?limit=1000 answers about 1 MiB with nextCursor, and paging visits each record once', async () => {
    const { seen, sizes } = await pageThrough('/v1/records?limit=1000', (body) => body.items as { uid: string }[]);
    expect(seen).toEqual(created);
    expect(sizes.length).toBeGreaterThan(1);
    for (const size of sizes) expect(size).toBeLessThan(RECORD_PAGE_BYTES + 2 * RECORD_BYTES);
    expect(sizes[0]).toBeGreaterThan(RECORD_PAGE_BYTES - 2 * RECORD_BYTES);
  });

  test('GET /v1/generations/{id}?limit=1000 is cut the same way and pages on with cursor', async () => {
    const { seen, sizes } = await pageThrough('/v1/generations/big-pages?limit=1000', (body) => {
      expect((body.counts as { total: number }).total).toBe(RECORDS);
      expect(body.truncated).toBe(body.nextCursor !== undefined);
      return body.media as { uid: string }[];
    });
    expect(seen).toEqual(created);
    expect(sizes.length).toBeGreaterThan(1);
    for (const size of sizes) expect(size).toBeLessThan(RECORD_PAGE_BYTES + 2 * RECORD_BYTES);
  });
});
