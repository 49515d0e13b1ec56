// A task's items through the app: GET /v1/tasks/{id}/items?limit=1000 over items with 8 KiB URLs and 4,000-character
// errors answers about 1 MiB with nextAfterSeq, and a client following it gets every item once; others get a 404.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { SESSION_COOKIE } from '@mediaforge/api';
import { TASK_ITEM_PAGE_BYTES } from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import { sql } from 'drizzle-orm';
import { createTestApi, errorOf, type TestApi } from './support.ts';

const ITEMS = 300;
/** An item's JSON in an answer: its URL, its error and its other fields. */
const ITEM_BYTES = 8000 + 4000 + 400;

interface ItemPage {
  items: { seq: number; payload: { url: string }; errorMessage: string | null }[];
  nextAfterSeq?: number;
}

describeBackends('API task item pages within a byte budget', (backend) => {
  let api: TestApi;
  let taskId: string;
  beforeAll(async () => {
    api = await createTestApi(backend.database(), { API_MAX_JSON_KB: '4096' });
    const urls = Array.from({ length: ITEMS }, (_, n) => `https://media.example/${n}/${'p'.repeat(8000)}`);
    const queued = await api.call('POST', '/v1/ingest', { as: 'bob', json: { urls } });
    expect(queued.status).toBe(202);
    taskId = ((await queued.json()) as { taskId: string }).taskId;
    // What failed downloads leave (no worker runs here): an error of up to 4,000 characters on every item.
    await backend.database().db.execute(sql`update task_items set status = 'failed', error_code = 'X',
      error_message = repeat('e', 4000), finished_at = now() where task_id = ${taskId}`);
  });
  afterAll(() => api.close());

  /** Follows nextAfterSeq from `query` as bob; returns the seqs seen and each answer's size. */
  const pageThrough = async (query: string) => {
    const seen: number[] = [];
    const sizes: number[] = [];
    let afterSeq: number | undefined;
    do {
      const next = afterSeq === undefined ? '' : `&afterSeq=${afterSeq}`;
      const response = await api.call('GET', `/v1/tasks/${taskId}/items?${query}${next}`, { as: 'bob' });
      expect(response.status).toBe(200);
      const text = await response.text();
      sizes.push(text.length);
      const page = JSON.parse(text) as ItemPage;
      seen.push(...page.items.map((item) => item.seq));
      if (page.nextAfterSeq !== undefined) expect(page.nextAfterSeq).toBe(page.items.at(-1)?.seq as number);
      afterSeq = page.nextAfterSeq;
    } while (afterSeq !== undefined && sizes.length < 100);
    return { seen, sizes };
  };

  test('limit=1000 answers about 1 MiB with nextAfterSeq, and following it visits every item once', async () => {
    const { seen, sizes } = await pageThrough('limit=1000');
    expect(seen).toEqual(Array.from({ length: ITEMS }, (_, n) => n));
    expect(sizes.length).toBeGreaterThan(2);
    for (const size of sizes) expect(size).toBeLessThan(TASK_ITEM_PAGE_BYTES + 2 * ITEM_BYTES);
    expect(sizes[0]).toBeGreaterThan(TASK_ITEM_PAGE_BYTES - 2 * ITEM_BYTES);
  });

  test('a small limit with a status filter pages the same way; the last page has no nextAfterSeq', async () => {
    const { seen, sizes } = await pageThrough('limit=40&status=failed');
    expect(seen).toEqual(Array.from({ length: ITEMS }, (_, n) => n));
    expect(sizes).toHaveLength(Math.ceil(ITEMS / 40));
    const none = (await (
      await api.call('GET', `/v1/tasks/${taskId}/items?status=queued`, { as: 'bob' })
    ).json()) as ItemPage;
    expect(none).toEqual({ items: [] });
  });

  test("the dashboard's task page shows a page of items and links to the next until every item is shown", async () => {
    const seen: number[] = [];
    let path: string | undefined = `/dashboard/tasks/${taskId}`;
    for (let pages = 0; path && pages < 100; pages += 1) {
      const response = await api.call('GET', path, {
        as: null,
        headers: { cookie: `${SESSION_COOKIE}=${api.keys.bob}` },
      });
      expect(response.status).toBe(200);
      const html = await response.text();
      seen.push(...[...html.matchAll(/data-item-seq="(\d+)"/g)].map((match) => Number(match[1])));
      path = /<a href="([^"]+)">Next items/.exec(html)?.[1]?.replaceAll('&amp;', '&');
    }
    expect(seen).toEqual(Array.from({ length: ITEMS }, (_, n) => n));
  });

  test("another user's task stays a 404 on every page; the schema documents nextAfterSeq", async () => {
    for (const query of ['', '?limit=1000', '?afterSeq=10']) {
      expect(await errorOf(await api.call('GET', `/v1/tasks/${taskId}/items${query}`, { as: 'alice' }))).toMatchObject({
        status: 404,
        code: 'TASK_NOT_FOUND',
      });
    }
    const document = (await (await api.call('GET', '/openapi.json', { as: null })).json()) as {
      components: { schemas: Record<string, { properties: Record<string, unknown>; required?: string[] }> };
    };
    const page = document.components.schemas.TaskItemPage;
    expect(Object.keys(page?.properties ?? {})).toEqual(['items', 'nextAfterSeq']);
    expect(page?.required).toEqual(['items']);
  });
});
