/** What is running right now, from the items themselves: per worker, per task, and per worker within each task. */
import { sql } from 'drizzle-orm';
import { type Executor, rows, toNumber } from './rows.ts';

export interface TaskActivity {
  taskId: string;
  kind: string;
  queue: string;
  userId: string | null;
  /** Items of the task running now, on any worker. */
  running: number;
  /** The task's own cap, when it set one. */
  maxConcurrent: number | null;
  /** Running items of the task per worker id. */
  byWorker: Record<string, number>;
}

export interface ActiveItems {
  total: number;
  /** Running items per worker id. */
  byWorker: Record<string, number>;
  /** Tasks with running items, busiest first (at most 100). */
  byTask: TaskActivity[];
}

/** Running items grouped by worker and task (served by the partial index on running items). */
export async function activeItems(db: Executor): Promise<ActiveItems> {
  const found = await rows<Record<string, unknown>>(
    db,
    sql`
    with running as (
      select task_id, locked_by, count(*)::int as n from task_items where status = 'running'
      group by task_id, locked_by
    )
    select r.task_id, r.locked_by, r.n, t.kind, t.queue, t.user_id,
           (t.options -> 'limits' ->> 'maxConcurrent')::int as max_concurrent
    from running r join tasks t on t.id = r.task_id`,
  );
  const byWorker: Record<string, number> = {};
  const tasks = new Map<string, TaskActivity>();
  let total = 0;
  for (const row of found) {
    const n = toNumber(row.n);
    const worker = String(row.locked_by ?? '');
    const taskId = String(row.task_id);
    total += n;
    byWorker[worker] = (byWorker[worker] ?? 0) + n;
    const task = tasks.get(taskId) ?? {
      taskId,
      kind: String(row.kind),
      queue: String(row.queue),
      userId: (row.user_id as string | null) ?? null,
      running: 0,
      maxConcurrent: row.max_concurrent === null ? null : toNumber(row.max_concurrent),
      byWorker: {},
    };
    task.running += n;
    task.byWorker[worker] = (task.byWorker[worker] ?? 0) + n;
    tasks.set(taskId, task);
  }
  const byTask = [...tasks.values()].sort((a, b) => b.running - a.running).slice(0, 100);
  return { total, byWorker, byTask };
}
