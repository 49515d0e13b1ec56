/**
 * A task's items come in pages: at most `limit`, fewer once their payloads, results and errors pass a byte budget, and
 * `nextAfterSeq` continues after the last one until the last page, so paging visits every item once in seq order, with
 * or without a status filter. Real PGlite and PostgreSQL.
 */
import { beforeEach, expect, test } from 'bun:test';
import {
  type Db,
  newUid,
  TASK_ITEM_PAGE_BYTES,
  type TaskItemPage,
  type TaskItemRow,
  TaskManager,
  TaskQueue,
  type TaskStatus,
  tasks,
  userScope,
} from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import { sql } from 'drizzle-orm';
import { refusal } from '../support/refusal.ts';

/** What the budget counts of an item. */
const sizeOf = (item: TaskItemRow) =>
  JSON.stringify(item.payload).length + JSON.stringify(item.result ?? '').length + (item.errorMessage?.length ?? 0);

describeBackends('task item pages', (backend) => {
  let db: Db;
  let queue: TaskQueue;
  beforeEach(async () => {
    db = backend.database().db;
    queue = new TaskQueue(backend.database());
    await db.delete(tasks);
  });

  /** A task of `count` items with `url` bytes of URL each; `outcome` sets what a worker would have left on them. */
  async function task(count: number, url: number, outcome?: { error?: number; result?: number }): Promise<string> {
    const payloads = Array.from({ length: count }, (_, n) => ({
      url: `https://media.example/${n}/${'p'.repeat(url)}`,
    }));
    const id = await queue.enqueue({ kind: 'noop', payloads, userId: 'bob' });
    if (outcome?.error) {
      await db.execute(sql`update task_items set status = 'failed', error_code = 'X',
        error_message = repeat('e', ${outcome.error}), finished_at = now() where task_id = ${id}`);
    }
    if (outcome?.result) {
      await db.execute(sql`update task_items set status = 'succeeded', result = jsonb_build_object('log',
        repeat('r', ${outcome.result})), finished_at = now() where task_id = ${id}`);
    }
    return id;
  }

  /** Follows nextAfterSeq to the end; each page must continue right after the previous page's last item. */
  async function everyPage(id: string, options: { limit?: number; status?: TaskStatus; budget?: number } = {}) {
    const pages: TaskItemPage[] = [];
    let afterSeq: number | undefined;
    do {
      const page = await queue.listItems(id, { ...options, ...(afterSeq === undefined ? {} : { afterSeq }) });
      pages.push(page);
      if (page.nextAfterSeq !== undefined) expect(page.nextAfterSeq).toBe(page.items.at(-1)?.seq as number);
      afterSeq = page.nextAfterSeq;
    } while (afterSeq !== undefined && pages.length < 100);
    return pages;
  }

  const seqs = (pages: TaskItemPage[]) => pages.flatMap((page) => page.items.map((item) => item.seq));
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, n) => from + n);

  test('8 KiB URLs and 4,000-character errors: pages end past 1 MiB, well before the limit, none skipped or repeated', async () => {
    const id = await task(300, 8000, { error: 4000 });
    const pages = await everyPage(id, { limit: 1000 });
    expect(pages.length).toBeGreaterThanOrEqual(3);
    const itemBytes = 8000 + 4000 + 200;
    for (const page of pages.slice(0, -1)) {
      const bytes = page.items.reduce((sum, item) => sum + sizeOf(item), 0);
      // The item that passes the budget is the page's last.
      expect(bytes).toBeGreaterThanOrEqual(TASK_ITEM_PAGE_BYTES);
      expect(bytes).toBeLessThan(TASK_ITEM_PAGE_BYTES + itemBytes);
      expect(page.items.length).toBeLessThan(1000);
    }
    expect(seqs(pages)).toEqual(range(0, 300));
    expect(pages.at(-1)?.nextAfterSeq).toBeUndefined();
    expect(pages[0]?.items[0]?.finishedAt).toBeInstanceOf(Date);
  });

  test('results count against the budget too, and an item larger than the budget is a page of its own', async () => {
    expect(
      (await everyPage(await task(10, 10, { result: 3000 }), { budget: 10_000 })).map((p) => p.items.length),
    ).toEqual([4, 4, 2]);
    const pages = await everyPage(await task(3, 20_000), { budget: 10_000 });
    expect(pages.map((page) => page.items.length)).toEqual([1, 1, 1]);
    expect(pages.map((page) => page.nextAfterSeq)).toEqual([0, 1, undefined]);
  });

  test('a page past the first step of rows is cut in the second, or filled to its limit', async () => {
    const id = await task(300, 1000);
    const cut = await everyPage(id, { limit: 1000, budget: 200_000 });
    expect(cut.length).toBe(2);
    const first = cut[0]?.items ?? [];
    expect(first.length).toBeGreaterThan(128);
    expect(first.reduce((sum, item) => sum + sizeOf(item), 0)).toBeGreaterThanOrEqual(200_000);
    expect(seqs(cut)).toEqual(range(0, 300));
    expect((await everyPage(id, { limit: 1000 })).map((page) => page.items.length)).toEqual([300]);
    expect((await everyPage(id, { limit: 200 })).map((page) => page.items.length)).toEqual([200, 100]);
  });

  test('small items fill pages to their limit; a page ending at the last item has no next', async () => {
    const id = await task(12, 10);
    expect((await everyPage(id, { limit: 5 })).map((page) => page.items.length)).toEqual([5, 5, 2]);
    const exact = await everyPage(id, { limit: 6 });
    expect(exact.map((page) => page.nextAfterSeq)).toEqual([5, undefined]);
    expect(seqs(exact)).toEqual(range(0, 12));
    expect(await queue.listItems(id, { afterSeq: 11 })).toEqual({ items: [] });
  });

  test('a status filter pages through its items only: by limit and by bytes, with no next after its last', async () => {
    const id = await task(30, 2000);
    // Every third item failed, and the task's last item did not.
    await db.execute(sql`update task_items set status = 'failed', error_message = repeat('e', 2000)
      where task_id = ${id} and seq % 3 = 1`);
    const failed = range(0, 30).filter((seq) => seq % 3 === 1);
    const byLimit = await everyPage(id, { status: 'failed', limit: 3 });
    expect(byLimit.map((page) => page.items.length)).toEqual([3, 3, 3, 1]);
    expect(seqs(byLimit)).toEqual(failed);
    const byBytes = await everyPage(id, { status: 'failed', limit: 1000, budget: 10_000 });
    expect(byBytes.map((page) => page.items.length)).toEqual([3, 3, 3, 1]);
    expect(seqs(byBytes)).toEqual(failed);
    expect(byBytes.flatMap((page) => page.items).every((item) => item.status === 'failed')).toBe(true);
  });

  test("the task manager lists a page only of a task in the caller's scope", async () => {
    const id = await task(3, 10);
    const settings = { maxBatchSize: 100, allowHosts: [], maxFileSizeBytes: 1024 * 1024, taskTimeoutMinutes: 30 };
    const manager = new TaskManager({ database: backend.database(), settings });
    expect((await manager.listItems(id, userScope('bob'), { limit: 2 })).nextAfterSeq).toBe(1);
    await refusal(manager.listItems(id, userScope(`alice-${newUid()}`)), 'TASK_NOT_FOUND');
  });
});
