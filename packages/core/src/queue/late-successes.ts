/** Items cancelled while their work finished anyway: their successes are recorded after all. */
import { sql } from 'drizzle-orm';
import { type Executor, idList, rows, toNumber } from './rows.ts';
import type { Outcome } from './statements.ts';

/**
 * Records successes of items cancelled while they finished (a cancel that came too late to stop the work: an ingest
 * whose record was committed). Such an item was counted cancelled; it becomes succeeded, with its result, so the task
 * reports the record it made. Only items this worker held, cancelled by a cancel (not failed or retried since).
 * Returns the ids recorded.
 */
export async function completeCancelled(
  db: Executor,
  workerId: string,
  outcomes: readonly Outcome[],
): Promise<number[]> {
  const succeeded = outcomes.filter((o) => o.status === 'succeeded');
  if (succeeded.length === 0) return [];
  const results: Record<number, unknown> = {};
  for (const o of succeeded) results[o.id] = o.result ?? null;
  const moved = await rows<{ id: unknown }>(
    db,
    sql`
    with late as (
      update task_items i
      set status = 'succeeded', result = nullif((${JSON.stringify(results)}::jsonb) -> (i.id::text), 'null'::jsonb),
          error_code = null, error_message = null, finished_at = now()
      where i.id = any(${idList(succeeded.map((o) => o.id))}) and i.status = 'cancelled'
        and i.error_code = 'CANCELLED' and i.locked_by = ${workerId}
      returning i.id, i.task_id
    ), counts as (select task_id, count(*)::int as n from late group by task_id),
    moved as (
      update tasks t set succeeded = t.succeeded + c.n, cancelled = t.cancelled - c.n, updated_at = now()
      from counts c where t.id = c.task_id
    )
    select id from late`,
  );
  return moved.map((row) => toNumber(row.id));
}
