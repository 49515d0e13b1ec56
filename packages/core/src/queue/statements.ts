/**
 * Every statement the queue runs, one function each, data only in parameters. Each state change is guarded on
 * the row's current state (and, for a worker, on still holding the lease), so a late worker can never overwrite
 * a finished or cancelled item. Task counters move in the same statement as the items they count.
 */
import { type SQL, sql } from 'drizzle-orm';
import type { TaskKind, TaskStatus } from '../db/queue-schema.ts';
import type { ErrorCode } from '../error-codes.ts';
import { validateQueueName } from './queue-name.ts';
import { type Executor, idList, preparedRows, rows, toNumber } from './rows.ts';

export const ITEMS_CHANNEL = 'mediaforge_items';
export const CANCEL_CHANNEL = 'mediaforge_cancel';

export interface NewTask {
  id: string;
  kind: TaskKind;
  queue: string;
  userId: string | null;
  generationId: string | null;
  priority: number;
  maxAttempts: number;
  options: Record<string, unknown>;
  total: number;
}

export interface ClaimedItem {
  id: number;
  taskId: string;
  seq: number;
  queue: string;
  kind: TaskKind;
  payload: Record<string, unknown>;
  options: Record<string, unknown>;
  userId: string | null;
  generationId: string | null;
  attempts: number;
  maxAttempts: number;
}

export interface Outcome {
  id: number;
  status: 'succeeded' | 'failed';
  result?: Record<string, unknown>;
  code?: ErrorCode;
  message?: string;
}

export interface FinishedTask {
  id: string;
  status: TaskStatus;
}

/**
 * Due items: `run_at` is stored to the millisecond, rounded, so an item enqueued at now() can read up to 0.5 ms in
 * the future; a worker woken by its NOTIFY at once found nothing and slept until its next poll (2 s).
 */
export const DUE = sql.raw(`run_at <= now() + interval '1 millisecond'`);
const seconds = (ms: number) => sql`make_interval(secs => ${ms / 1000}::double precision)`;

export async function notify(db: Executor, channel: string, payload: string): Promise<void> {
  await db.execute(sql`select pg_notify(${channel}, ${payload})`);
}

/**
 * A worker's queues as literals, not a parameter: the planner then knows how many there are in the plan it keeps
 * for a prepared claim. As an array parameter they were estimated at 10, the kept (generic) plan looked three times
 * dearer than one made for the actual list, and PostgreSQL planned the claim anew on every run (0.39 ms a claim
 * from the worker's side against 0.15 ms). Names are checked first, so nothing but [a-z0-9_-] reaches the text.
 */
function queueList(queues: readonly string[]): SQL {
  return sql.raw(queues.map((name) => `('${validateQueueName(name)}')`).join(', '));
}

/**
 * The power of two at or above `limit`, written into a claim as a literal: what the planner needs to keep one plan.
 * With the limit only a parameter, the kept (generic) plan is costed for a tenth of the queued items (10,000 of
 * 100,000), so PostgreSQL planned every claim anew for its actual limit: 0.39 ms of a 1.2 ms claim (pg_stat_statements).
 * At most 10 texts per queue list up to 512.
 */
export function limitBucket(limit: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, limit)));
}

/**
 * Claims up to `limit` runnable items in one round trip (SKIP LOCKED) and starts their tasks. One ordered claim-index
 * scan per queue: `queue = any(array)` cannot keep the index order, so it sorted every queued item (40 ms at 100k).
 * One queue (the usual worker) needs no merge: the exact limit sits above the scan, which then locks only the rows
 * taken. Several queues are merged by a sort, which takes each queue's first `limitBucket(limit)` rows.
 */
export async function claimItems(
  db: Executor,
  input: { workerId: string; queues: readonly string[]; limit: number; leaseMs: number },
): Promise<ClaimedItem[]> {
  if (input.queues.length === 0) return [];
  const bucket = sql.raw(String(limitBucket(input.limit)));
  const [only] = input.queues;
  const first = (queue: SQL) => sql`
        select id, priority, fair_at from task_items
        where status = 'queued' and queue = ${queue} and ${DUE} and max_concurrent is null
        order by priority desc nulls last, fair_at, id
        limit ${bucket}
        for update skip locked`;
  return claimSelected(
    db,
    input,
    input.queues.length === 1 && only !== undefined
      ? sql`select t.id from (${first(sql.raw(`'${validateQueueName(only)}'`))}) t limit ${input.limit}`
      : sql`
      select t.id from (values ${queueList(input.queues)}) as q(name)
      cross join lateral (${first(sql`q.name`)}) t
      order by t.priority desc nulls last, t.fair_at, t.id
      limit ${input.limit}`,
  );
}

/**
 * Claims the items `next` selects (ids, locked `for update skip locked`) and starts their tasks. The claim commits
 * without waiting for its WAL flush (`synchronous_commit` off for its own transaction): a server crash can lose only
 * a claim whose item has written nothing durable since, since any later synchronous commit flushes the claim's WAL
 * too, and a lost claim is an item queued again, as after a lease expiry. The flush was 12% of the backends' time.
 */
export async function claimSelected(
  db: Executor,
  input: { workerId: string; leaseMs: number },
  next: SQL,
): Promise<ClaimedItem[]> {
  const found = await preparedRows<Record<string, unknown>>(
    db,
    sql`
    with next as (${next}), claimed as (
      update task_items i
      set status = 'running', attempts = i.attempts + 1, locked_by = ${input.workerId},
          locked_until = now() + ${seconds(input.leaseMs)}, heartbeat_at = now(),
          started_at = coalesce(i.started_at, now()), error_code = null, error_message = null
      from next where i.id = next.id
      returning i.id, i.task_id, i.seq, i.queue, i.payload, i.attempts, i.max_attempts, i.priority, i.run_at
    ), started as (
      update tasks set status = 'running', started_at = coalesce(started_at, now()), updated_at = now()
      where id in (select task_id from claimed) and status = 'queued'
    )
    select c.id, c.task_id, c.seq, c.queue, c.payload, c.attempts, c.max_attempts, t.kind, t.options, t.user_id,
           t.generation_id
    from claimed c join tasks t on t.id = c.task_id
    where set_config('synchronous_commit', 'off', true) = 'off'
    order by c.priority desc, c.run_at, c.id`,
  );
  return found.map((row) => ({
    id: toNumber(row.id),
    taskId: String(row.task_id),
    seq: toNumber(row.seq),
    queue: String(row.queue),
    kind: row.kind as TaskKind,
    payload: row.payload as Record<string, unknown>,
    options: row.options as Record<string, unknown>,
    userId: (row.user_id as string | null) ?? null,
    generationId: (row.generation_id as string | null) ?? null,
    attempts: toNumber(row.attempts),
    maxAttempts: toNumber(row.max_attempts),
  }));
}

/**
 * Renews the lease of the items this worker still holds and stores their progress. Returns the ids it still
 * holds; an id missing from the answer was cancelled or taken over, and its work must stop without writing.
 */
export async function renewLeases(
  db: Executor,
  input: { workerId: string; ids: readonly number[]; leaseMs: number; progress: Record<string, unknown> },
): Promise<number[]> {
  if (input.ids.length === 0) return [];
  // Unprepared: planned for its ids each time, which a generic plan cannot see (see completionStatement).
  const held = await rows<{ id: unknown }>(
    db,
    sql`
    update task_items
    set locked_until = now() + ${seconds(input.leaseMs)}, heartbeat_at = now(),
        progress = coalesce(${JSON.stringify(input.progress)}::jsonb -> (id::text), progress)
    where id = any(${idList(input.ids)}) and status = 'running' and locked_by = ${input.workerId}
    returning id`,
  );
  return held.map((row) => toNumber(row.id));
}

/**
 * Adds terminal transitions (from the `done` CTE: task_id, status) to their tasks' counters and finishes each task
 * whose items are all terminal: succeeded when none failed, failed otherwise.
 */
function countIntoTasks({ ctes, done, select }: { ctes?: SQL; done: SQL; select?: SQL }): SQL {
  return sql`
    with ${ctes ? sql`${ctes},` : sql``} done as (${done}),
    counts as (
      select task_id,
             count(*) filter (where status = 'succeeded')::int as s,
             count(*) filter (where status = 'failed')::int as f
      from done group by task_id
    ),
    moved as (
      update tasks t
      set succeeded = t.succeeded + c.s,
          failed = t.failed + c.f,
          status = case
            when t.status in ('queued', 'running') and t.succeeded + c.s + t.failed + c.f + t.cancelled >= t.total
            then (case when t.failed + c.f > 0 then 'failed' else 'succeeded' end)::task_status
            else t.status end,
          finished_at = case
            when t.status in ('queued', 'running') and t.succeeded + c.s + t.failed + c.f + t.cancelled >= t.total
            then now() else t.finished_at end,
          error_code = case
            when t.status in ('queued', 'running') and t.failed + c.f > 0
                 and t.succeeded + c.s + t.failed + c.f + t.cancelled >= t.total
            then 'ITEMS_FAILED' else t.error_code end,
          error_message = case
            when t.status in ('queued', 'running') and t.failed + c.f > 0
                 and t.succeeded + c.s + t.failed + c.f + t.cancelled >= t.total
            then (t.failed + c.f)::text || ' of ' || t.total::text || ' items failed' else t.error_message end,
          updated_at = now()
      from counts c where t.id = c.task_id
      returning t.id, t.status, t.finished_at
    )
    select (select coalesce(json_agg(done.id), '[]'::json) from done) as done,
           (select coalesce(json_agg(json_build_object('id', moved.id, 'status', moved.status)), '[]'::json)
            from moved where moved.finished_at is not null and moved.status <> 'running') as finished
           ${select ? sql`, ${select}` : sql``}`;
}

function parseCounted(row: Record<string, unknown> | undefined): { done: number[]; finished: FinishedTask[] } {
  const parse = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value);
  return {
    done: ((parse(row?.done) as unknown[]) ?? []).map(toNumber),
    finished: (parse(row?.finished) as FinishedTask[]) ?? [],
  };
}

/** Up to this many outcomes a completion runs prepared; larger batches are planned for their ids. */
const PREPARED_OUTCOMES = 32;

/** Records finished items (a batch from one worker) and returns the ids it still held and the tasks it finished. */
export async function completeItems(
  db: Executor,
  workerId: string,
  outcomes: readonly Outcome[],
): Promise<{ done: number[]; finished: FinishedTask[] }> {
  if (outcomes.length === 0) return { done: [], finished: [] };
  // A few outcomes (a worker without --prefetch) run prepared: one round trip, and a poor generic plan is still cheap.
  // More are planned for their ids each time: only a custom plan has the id list as a constant (see below).
  const run = outcomes.length <= PREPARED_OUTCOMES ? preparedRows : rows;
  return parseCounted((await run<Record<string, unknown>>(db, completionStatement(workerId, outcomes)))[0]);
}

/**
 * The statement `completeItems` runs. No join for the planner to order: statistics of `status` are always stale in a
 * queue, and with the outcomes as a joined relation the planner once took the worker's 15,000 running rows as the
 * outer side (estimated: 1) and compared each with all 500 outcomes: 1.7 s a batch, and the backlog fed itself
 * (20,000 jobs took 10 s instead of 2). The rows are found by the id list alone: by primary key, or at worst by one
 * pass over the running rows with the list as a hash set (a constant list, which a custom plan has).
 */
export function completionStatement(workerId: string, outcomes: readonly Outcome[]): SQL {
  const byId: Record<number, unknown> = {};
  for (const o of outcomes)
    byId[o.id] = { status: o.status, result: o.result ?? null, code: o.code, message: o.message };
  return countIntoTasks({
    ctes: sql`outcome as (select ${JSON.stringify(byId)}::jsonb as by_id)`,
    done: sql`
      update task_items i
      set status = (o.by_id -> (i.id::text) ->> 'status')::task_status,
          result = nullif(o.by_id -> (i.id::text) -> 'result', 'null'::jsonb),
          error_code = o.by_id -> (i.id::text) ->> 'code', error_message = o.by_id -> (i.id::text) ->> 'message',
          finished_at = now(), locked_until = null
      from outcome o
      where i.id = any(${idList(outcomes.map((o) => o.id))}) and i.status = 'running' and i.locked_by = ${workerId}
      returning i.id, i.task_id, i.status`,
  });
}

/** Puts a failed attempt back in the queue to run after `delayMs`. False when the worker no longer held it. */
export async function retryItem(
  db: Executor,
  input: { workerId: string; id: number; delayMs: number; code: ErrorCode; message: string },
): Promise<boolean> {
  const moved = await rows(
    db,
    sql`
    update task_items
    set status = 'queued', run_at = now() + ${seconds(input.delayMs)}, locked_by = null, locked_until = null,
        error_code = ${input.code}, error_message = ${input.message}
    where id = ${input.id} and status = 'running' and locked_by = ${input.workerId}
    returning id`,
  );
  return moved.length > 0;
}

/** Hands items back without spending an attempt (graceful shutdown). */
export async function releaseItems(db: Executor, workerId: string, ids: readonly number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const moved = await rows(
    db,
    sql`
    update task_items
    set status = 'queued', attempts = greatest(attempts - 1, 0), locked_by = null, locked_until = null,
        run_at = now()
    where id = any(${idList(ids)}) and status = 'running' and locked_by = ${workerId}
    returning id`,
  );
  return moved.length;
}

/**
 * Takes back items whose lease expired (their worker died or stalled): queued again while attempts remain,
 * failed with LEASE_EXPIRED otherwise. Safe to run from every worker at once.
 */
export async function reapExpiredLeases(db: Executor): Promise<{ requeued: number; failed: number }> {
  const [row] = await rows<Record<string, unknown>>(
    db,
    countIntoTasks({
      ctes: sql`
      expired as (
        select id from task_items where status = 'running' and locked_until < now()
        for update skip locked
      ), reaped as (
        update task_items i
        set status = case when i.attempts >= i.max_attempts then 'failed' else 'queued' end::task_status,
            locked_until = null, run_at = now(), error_code = 'LEASE_EXPIRED',
            error_message = 'its worker stopped renewing the lease (crashed, killed or cut off) after attempt '
                            || i.attempts::text,
            finished_at = case when i.attempts >= i.max_attempts then now() end
        from expired where i.id = expired.id
        returning i.id, i.task_id, i.status
      )`,
      done: sql`select * from reaped where status = 'failed'`,
      select: sql`(select count(*) from reaped where status = 'queued')::int as requeued,
                  (select count(*) from reaped where status = 'failed')::int as failed_count`,
    }),
  );
  return { requeued: toNumber(row?.requeued ?? 0), failed: toNumber(row?.failed_count ?? 0) };
}

/**
 * Cancels a task: its queued and running items become cancelled (workers holding running ones lose them at their
 * next heartbeat, or at once through NOTIFY). False when the task is unknown, not the user's, or already finished.
 */
export async function cancelTask(db: Executor, taskId: string, userId?: string): Promise<boolean> {
  const owner = userId === undefined ? sql`true` : sql`user_id = ${userId}`;
  const moved = await rows(
    db,
    sql`
    with target as (
      select id from tasks where id = ${taskId} and status in ('queued', 'running') and ${owner}
    ), items as (
      update task_items set status = 'cancelled', finished_at = now(), locked_until = null,
             error_code = 'CANCELLED', error_message = 'the task was cancelled'
      where task_id in (select id from target) and status in ('queued', 'running')
      returning id
    )
    update tasks set status = 'cancelled', cancelled = cancelled + (select count(*) from items)::int,
           finished_at = now(), updated_at = now(), error_code = 'CANCELLED', error_message = 'cancelled by request'
    where id in (select id from target)
    returning id`,
  );
  return moved.length > 0;
}

/**
 * Prunes the items of tasks finished before `before`, first folding what they produced into the task's `result`
 * (so status stays exact), and forgets workers stopped before then. Returns how many items went.
 */
export async function pruneFinished(db: Executor, before: Date): Promise<{ tasks: number; items: number }> {
  const [row] = await rows<Record<string, unknown>>(
    db,
    sql`
    with old as (
      select id from tasks
      where status in ('succeeded', 'failed', 'cancelled') and finished_at < ${before.toISOString()}::timestamptz
        and exists (select 1 from task_items where task_id = tasks.id)
      for update skip locked
    ), folded as (
      update tasks t set result = coalesce(t.result, '{}'::jsonb) || jsonb_build_object(
        'processedFileIds', coalesce((
          select jsonb_agg(i.result -> 'recordUid' order by i.seq) from task_items i
          where i.task_id = t.id and i.status = 'succeeded' and i.result ? 'recordUid'), '[]'::jsonb),
        'pruned', true), stored_bytes = 0
      from old where t.id = old.id
      returning t.id
    ), gone as (
      delete from task_items where task_id in (select id from folded) returning id
    ), workers_gone as (
      delete from workers where stopped_at < ${before.toISOString()}::timestamptz
         or last_seen < ${before.toISOString()}::timestamptz
      returning id
    )
    select (select count(*) from folded)::int as tasks, (select count(*) from gone)::int as items,
           (select count(*) from workers_gone)::int as workers`,
  );
  return { tasks: toNumber(row?.tasks ?? 0), items: toNumber(row?.items ?? 0) };
}
