import { expect, test } from 'bun:test';
import { createLogger, openDatabase, TaskQueue } from '@mediaforge/core';
import { prune } from './maintenance.ts';

test("the workers' prune deletes tasks past their history (TASK_HISTORY_DAYS) only when given one", async () => {
  const database = await openDatabase();
  await database.migrate();
  try {
    const queue = new TaskQueue(database);
    const id = await queue.enqueue({ kind: 'noop', payloads: [{ n: 1 }] });
    expect(await queue.cancel(id)).toBe(true);
    const logger = createLogger({ level: 'silent' });
    // Without a history, a finished task is kept (its items are pruned after the retention, not yet due).
    await prune(database.db, 7 * 86_400_000, logger);
    expect((await queue.getTask(id))?.status).toBe('cancelled');
    // A history ending a minute from now takes the task that just finished, as 90 days take one that old.
    await prune(database.db, 7 * 86_400_000, logger, -60_000);
    expect(await queue.getTask(id)).toBeUndefined();
  } finally {
    await database.close();
  }
});
