/**
 * What the queue got done over time: finished items and the bytes they stored, per task or per worker, bucketed in
 * SQL over `finished_at` so only one row per series and bucket leaves the database.
 */
import { type SQL, sql } from 'drizzle-orm';
import { type Executor, rows } from '../queue/rows.ts';
import type { Scope } from '../scope.ts';
import { type BucketRow, type Series, type TimeWindow, toSeries } from './time-window.ts';

export type ThroughputKey = 'task' | 'worker';

export interface ThroughputQuery {
  by: ThroughputKey;
  window: TimeWindow;
  /** Only this user's tasks, or all of them (workers' charts are for admins: they name hosts). */
  scope: Scope;
  /** Only this task's items. */
  taskId?: string;
  /** The busiest series kept (default 8); more lines than that are unreadable anyway. */
  limit?: number;
}

// Fixed expressions chosen by a typed key, never from input.
const KEY_COLUMN: Record<ThroughputKey, SQL> = {
  task: sql`i.task_id::text`,
  worker: sql`i.locked_by`,
};

/**
 * Finished items (succeeded or failed) per bucket and series; bytes are the sizes succeeded items stored
 * (`result.size`). Pruned items are gone, so a window reaches back at most `TASK_RETENTION_DAYS`.
 */
export async function itemThroughput(db: Executor, query: ThroughputQuery): Promise<Series[]> {
  const { window, scope } = query;
  const start = window.start.getTime() / 1000;
  const end = window.end.getTime() / 1000;
  const seconds = window.bucketMs / 1000;
  const key = KEY_COLUMN[query.by];
  const found = await rows<BucketRow>(
    db,
    sql`
    with windowed as (
      select ${key} as key,
             floor((extract(epoch from i.finished_at) - ${start}::double precision) / ${seconds}::double precision)::int
               as bucket,
             case when i.status = 'succeeded' and jsonb_typeof(i.result -> 'size') = 'number'
                  then (i.result ->> 'size')::numeric else 0 end as size
      from tasks t join task_items i on i.task_id = t.id
      -- A task ends after its last item: tasks finished before the window hold no item finished inside it.
      where (t.finished_at is null or t.finished_at >= to_timestamp(${start}::double precision))
        and i.status in ('succeeded', 'failed')
        and i.finished_at >= to_timestamp(${start}::double precision)
        and i.finished_at < to_timestamp(${end}::double precision)
        and ${key} is not null
        ${scope.all ? sql`` : sql`and t.user_id = ${scope.userId}`}
        ${query.taskId ? sql`and t.id = ${query.taskId}` : sql``}
    ),
    busiest as (select key from windowed group by key order by count(*) desc, key limit ${query.limit ?? 8})
    select w.key, w.bucket, count(*)::int as items, sum(w.size)::text as bytes
    from windowed w join busiest b on b.key = w.key
    group by w.key, w.bucket`,
  );
  return toSeries(found, window);
}
