/** Read-only reports on a task's items: recounts (what the counters must equal) and who did what. */
import { sql } from 'drizzle-orm';
import { type Executor, rows, toNumber } from './rows.ts';

export interface TaskCounts {
  total: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  queued: number;
  running: number;
}

/** Recounts a task from its items (what the counters must equal; used by tests and `jobs status --verify`). */
export async function countItems(db: Executor, taskId: string): Promise<TaskCounts> {
  const [row] = await rows<Record<string, unknown>>(
    db,
    sql`
    select count(*)::int as total,
           count(*) filter (where status = 'succeeded')::int as succeeded,
           count(*) filter (where status = 'failed')::int as failed,
           count(*) filter (where status = 'cancelled')::int as cancelled,
           count(*) filter (where status = 'queued')::int as queued,
           count(*) filter (where status = 'running')::int as running
    from task_items where task_id = ${taskId}`,
  );
  return {
    total: toNumber(row?.total ?? 0),
    succeeded: toNumber(row?.succeeded ?? 0),
    failed: toNumber(row?.failed ?? 0),
    cancelled: toNumber(row?.cancelled ?? 0),
    queued: toNumber(row?.queued ?? 0),
    running: toNumber(row?.running ?? 0),
  };
}

/** Who did what in a task: items finished per worker. */
export async function itemsByWorker(
  db: Executor,
  taskId: string,
): Promise<{ workerId: string; succeeded: number; failed: number }[]> {
  const found = await rows<Record<string, unknown>>(
    db,
    sql`
    select locked_by as worker_id,
           count(*) filter (where status = 'succeeded')::int as succeeded,
           count(*) filter (where status = 'failed')::int as failed
    from task_items where task_id = ${taskId} and locked_by is not null and status in ('succeeded', 'failed')
    group by locked_by order by locked_by`,
  );
  return found.map((row) => ({
    workerId: String(row.worker_id),
    succeeded: toNumber(row.succeeded),
    failed: toNumber(row.failed),
  }));
}
