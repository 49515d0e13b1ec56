/**
 * The statements that enqueue: a task with its first items in one statement, later chunks of a large task. Split from
 * statements.ts, which holds what workers run.
 */
import { sql } from 'drizzle-orm';
import { type Executor, preparedRows } from './rows.ts';
import { ITEMS_CHANNEL, type NewTask } from './statements.ts';

/**
 * Creates a task with its first chunk of items, takes their seconds of the owner's lane and wakes the queue's
 * workers, in one statement (one round trip prepared, atomic without a transaction): enqueue → start latency is
 * mostly round trips. Foreign keys are checked at the statement's end, after the task row exists. Returns where
 * the lane starts, for later chunks. A task with no items is born succeeded.
 */
export async function insertTaskWithItems(
  db: Executor,
  task: NewTask & { maxConcurrent?: number | null; itemWebhook?: boolean; storedBytes?: number },
  payloads: readonly Record<string, unknown>[],
): Promise<Date> {
  const lane = sql`make_interval(secs => ${task.total}::double precision)`;
  const [row] = await preparedRows<{ start: string | Date }>(
    db,
    sql`
    with lane as (
      insert into queue_lanes (owner, next_at) values (${task.userId ?? ''}, now() + ${lane})
      on conflict (owner) do update set next_at = greatest(queue_lanes.next_at, now()) + ${lane}
      returning next_at - ${lane} as start
    ), task as (
      insert into tasks (id, kind, queue, user_id, generation_id, priority, max_attempts, options, total,
                         status, started_at, finished_at, stored_bytes)
      values (${task.id}, ${task.kind}, ${task.queue}, ${task.userId}, ${task.generationId}, ${task.priority},
              ${task.maxAttempts}, ${JSON.stringify(task.options)}::jsonb, ${task.total}::int,
              (case when ${task.total}::int = 0 then 'succeeded' else 'queued' end)::task_status,
              case when ${task.total}::int = 0 then now() end, case when ${task.total}::int = 0 then now() end,
              ${task.storedBytes ?? 0}::bigint)
    ), items as (
      insert into task_items (task_id, seq, queue, priority, max_attempts, max_concurrent, item_webhook, payload,
                              fair_at)
      select ${task.id}, (e.ord - 1)::int, ${task.queue}, ${task.priority}::int, ${task.maxAttempts}::int,
             ${task.maxConcurrent ?? null}::int, ${task.itemWebhook ?? false}::boolean, e.value,
             lane.start + make_interval(secs => (e.ord - 1)::double precision)
      from lane, jsonb_array_elements(${JSON.stringify(payloads)}::jsonb) with ordinality as e(value, ord)
    ), woken as (select pg_notify(${ITEMS_CHANNEL}, ${task.queue}))
    select lane.start from lane, woken`,
  );
  return new Date(row?.start ?? Date.now());
}

/** Inserts a later chunk of a task's items; `offset` is the seq of the first, `laneStart` where the lane starts. */
export async function insertItems(
  db: Executor,
  task: Pick<NewTask, 'id' | 'queue' | 'priority' | 'maxAttempts'> & {
    maxConcurrent?: number | null;
    itemWebhook?: boolean;
  },
  payloads: readonly Record<string, unknown>[],
  offset: number,
  laneStart: Date,
): Promise<void> {
  await db.execute(sql`
    insert into task_items (task_id, seq, queue, priority, max_attempts, max_concurrent, item_webhook, payload, fair_at)
    select ${task.id}, (e.ord - 1 + ${offset})::int, ${task.queue}, ${task.priority}, ${task.maxAttempts},
           ${task.maxConcurrent ?? null}::int, ${task.itemWebhook ?? false}::boolean, e.value,
           ${laneStart.toISOString()}::timestamptz + make_interval(secs => (e.ord - 1 + ${offset})::double precision)
    from jsonb_array_elements(${JSON.stringify(payloads)}::jsonb) with ordinality as e(value, ord)`);
}
