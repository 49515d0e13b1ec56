/**
 * Dead letters come in pages (second attacker, session 15): at most `limit` items, fewer once their payloads and errors
 * pass 1 MiB, and `nextCursor` continues after the last one, so paging visits every failed item once, newest first,
 * even past the first 1,000. Real PGlite and PostgreSQL.
 */
import { beforeEach, expect, test } from 'bun:test';
import {
  ALL_USERS,
  type Db,
  DEAD_LETTER_PAGE_BYTES,
  type DeadLetter,
  listDeadLetters,
  newUid,
  TaskQueue,
  tasks,
  userScope,
} from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import { sql } from 'drizzle-orm';
import { refusal } from '../support/refusal.ts';

describeBackends('dead letter pages', (backend) => {
  let db: Db;
  beforeEach(async () => {
    db = backend.database().db;
    await db.delete(tasks);
  });

  /** A task of `count` items for `userId`, each `bytes` of payload, all failed at the same moment (ties broken by id). */
  async function failedTask(userId: string, count: number, bytes: number): Promise<string> {
    const payloads = Array.from({ length: count }, (_, n) => ({ n, url: `https://x.example/${'p'.repeat(bytes)}` }));
    const id = await new TaskQueue(backend.database()).enqueue({ kind: 'noop', payloads, userId });
    await db.execute(sql`
      update task_items set status = 'failed', error_code = 'X', error_message = 'failed for the test',
        finished_at = '2026-11-28T12:00:00Z' where task_id = ${id}`);
    return id;
  }

  async function everyPage(scope = ALL_USERS, limit = 1000): Promise<DeadLetter[][]> {
    const pages: DeadLetter[][] = [];
    let cursor: string | undefined;
    do {
      const page = await listDeadLetters(db, scope, { limit, ...(cursor ? { cursor } : {}) });
      pages.push(page.items);
      cursor = page.nextCursor;
    } while (cursor && pages.length < 100);
    return pages;
  }

  test('large items: pages end past 1 MiB, and paging visits every item once', async () => {
    await failedTask(`big-${newUid()}`, 30, 100_000);
    const pages = await everyPage();
    expect(pages.length).toBeGreaterThanOrEqual(3);
    for (const page of pages) {
      const bytes = page.reduce((sum, item) => sum + JSON.stringify(item.payload).length, 0);
      // The item that passes the budget is the page's last.
      expect(bytes).toBeLessThan(DEAD_LETTER_PAGE_BYTES + 110_000);
    }
    const ids = pages.flat().map((item) => item.itemId);
    expect(ids).toHaveLength(30);
    expect(new Set(ids).size).toBe(30);
    // Newest first: with one finish time, the higher id first.
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
  });

  test('small items fill pages to their limit; only the owner sees them; a bad cursor is a typed error', async () => {
    const owner = `small-${newUid()}`;
    await failedTask(owner, 12, 10);
    expect((await everyPage(userScope(owner), 5)).map((page) => page.length)).toEqual([5, 5, 2]);
    expect((await listDeadLetters(db, userScope('someone-else'))).items).toEqual([]);
    await refusal(listDeadLetters(db, ALL_USERS, { cursor: 'not-a-cursor' }), 'INVALID_CURSOR');
  });
});
