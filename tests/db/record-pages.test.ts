// Record pages end at their byte budget as well as at their limit, on both backends: large records give short pages
// whose nextCursor still visits every record once; small records give full pages.
import { expect, test } from 'bun:test';
import {
  ALL_USERS,
  getGeneration,
  type MediaRecord,
  newUid,
  RECORD_PAGE_BYTES,
  RecordRepository,
  userScope,
} from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';

/** ~15 KiB of JSON per record: 1,000 of them would be a 15 MB page. */
const bigMetadata = (i: number, bytes = 15_000) => ({ i, blob: 'x'.repeat(bytes) });
const bytesOf = (items: MediaRecord[]) => items.reduce((sum, record) => sum + JSON.stringify(record).length, 0);

describeBackends('record pages within a byte budget', (backend) => {
  const repo = () => new RecordRepository(backend.database().db);

  test('limit=1000 over records of ~15 KiB: a page of about 1 MiB with nextCursor; paging visits each record once', async () => {
    const userId = `big-${newUid()}`;
    const generationId = `gen-${newUid()}`;
    const created = await repo().createMany(
      Array.from({ length: 150 }, (_, i) => ({
        mediaType: 'text' as const,
        userId,
        generationId,
        metadata: bigMetadata(i),
      })),
      ALL_USERS,
    );
    const recordBytes = bytesOf(created.slice(0, 1));
    const first = await repo().list(userScope(userId), { limit: 1000 });
    // The record that passes the budget is the page's last: about 1 MiB / 15 KiB records, never the 150 asked for.
    expect(first.items.length).toBeGreaterThanOrEqual(Math.floor(RECORD_PAGE_BYTES / recordBytes));
    expect(first.items.length).toBeLessThanOrEqual(Math.ceil(RECORD_PAGE_BYTES / recordBytes) + 1);
    expect(bytesOf(first.items)).toBeLessThan(RECORD_PAGE_BYTES + 2 * recordBytes);
    expect(first.nextCursor).toBeString();

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await repo().list(userScope(userId), { limit: 1000, cursor });
      expect(page.items.length).toBeGreaterThan(0);
      expect(bytesOf(page.items)).toBeLessThan(RECORD_PAGE_BYTES + 2 * recordBytes);
      seen.push(...page.items.map((record) => record.uid));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(Math.ceil(150 / first.items.length));
    expect(seen).toEqual(created.map((record) => record.uid));

    // A generation's media are the same pages: counts cover all of them, nextCursor goes on after the last listed.
    const viewed: string[] = [];
    let view = await getGeneration(backend.database().db, generationId, ALL_USERS, { limit: 1000 });
    expect(view.counts.total).toBe(150);
    expect(view.media.length).toBe(first.items.length);
    expect(view.truncated).toBe(true);
    for (;;) {
      viewed.push(...view.media.map((record) => record.uid));
      if (!view.nextCursor) break;
      view = await getGeneration(backend.database().db, generationId, ALL_USERS, {
        limit: 1000,
        cursor: view.nextCursor,
      });
    }
    expect(view.truncated).toBe(false);
    expect(viewed).toEqual(created.map((record) => record.uid));
  });

  test('records of ~4 KiB: the cut falls after the first rows measured, and paging still visits each record once', async () => {
    const userId = `mid-${newUid()}`;
    const created = await repo().createMany(
      Array.from({ length: 400 }, (_, i) => ({ mediaType: 'text' as const, userId, metadata: bigMetadata(i, 4_000) })),
      ALL_USERS,
    );
    const recordBytes = bytesOf(created.slice(0, 1));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await repo().list(userScope(userId), { limit: 1000, cursor });
      if (page.nextCursor) expect(bytesOf(page.items)).toBeGreaterThan(RECORD_PAGE_BYTES - 2 * recordBytes);
      expect(bytesOf(page.items)).toBeLessThan(RECORD_PAGE_BYTES + 2 * recordBytes);
      seen.push(...page.items.map((record) => record.uid));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(created.map((record) => record.uid));
  });

  test('small records still fill a page to its limit', async () => {
    const userId = `small-${newUid()}`;
    const created = await repo().createMany(
      Array.from({ length: 1200 }, (_, i) => ({ mediaType: 'text' as const, userId, title: `small ${i}` })),
      ALL_USERS,
    );
    const first = await repo().list(userScope(userId), { limit: 1000 });
    expect(first.items).toHaveLength(1000);
    const rest = await repo().list(userScope(userId), { limit: 1000, cursor: first.nextCursor });
    expect(rest.items).toHaveLength(200);
    expect(rest.nextCursor).toBeUndefined();
    expect([...first.items, ...rest.items].map((record) => record.uid)).toEqual(created.map((record) => record.uid));
    // A page that ends exactly at the last record says so: no cursor to an empty page.
    const exact = await repo().list(userScope(userId), { limit: 200, cursor: first.nextCursor });
    expect([exact.items.length, exact.nextCursor]).toEqual([200, undefined]);
  });
});
