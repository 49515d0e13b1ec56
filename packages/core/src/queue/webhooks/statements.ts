/**
 * The webhook deliveries' SQL, one function per statement, each guarded on the row's state and holder (as the
 * queue's own statements are): a delivery is claimed with SKIP LOCKED under a lease, and only its holder may record
 * how it went. A holder that dies leaves the lease to expire; the next claim takes the delivery up again.
 */
import { sql } from 'drizzle-orm';
import { type Executor, rows, toNumber } from '../rows.ts';

export interface ClaimedDelivery {
  id: string;
  taskId: string;
  event: 'task.finished' | 'item.finished';
  payload: Record<string, unknown>;
  createdAt: Date;
  attempts: number;
  maxAttempts: number;
  url: string;
  secret: string;
  allowPrivate: boolean;
}

export interface DeliveryAttempt {
  id: string;
  workerId: string;
  delivered: boolean;
  /** When not delivered: retry after this long, or null to give up. */
  retryInMs: number | null;
  lastStatus: number | null;
  lastError: string | null;
  lastResponse: string;
}

const seconds = (ms: number) => sql`make_interval(secs => ${ms / 1000}::double precision)`;

/**
 * Deliveries of one owner in flight at once, across every worker. A delivery holds a slot until its receiver answers
 * or its timeout (10 s) passes, so one owner's slow receiver must not fill the slots everyone's deliveries share.
 */
export const DELIVERIES_IN_FLIGHT_PER_OWNER = 2;

/**
 * Claims up to `limit` due deliveries (new, due for a retry, or left by a dead holder) under a lease. Owners take
 * turns: each owner with pending deliveries (walked one at a time through `webhook_deliveries_owner_due_idx`, so the
 * cost follows the number of owners, not of deliveries) offers its earliest due ones, no more than it may still have
 * in flight; those of owners with fewer in flight are claimed first, then the earliest. First come, first served
 * across owners let one user's 40 deliveries to a receiver that never answered hold another user's first delivery
 * back 96 s; with the earliest first, two such users took every slot freed as one of theirs timed out, and a third
 * user's delivery waited 87 s (session 12's attacker). Now it takes the next slot freed.
 */
export async function claimDeliveries(
  db: Executor,
  input: { workerId: string; limit: number; leaseMs: number },
): Promise<ClaimedDelivery[]> {
  // A dead holder's delivery that already used its last attempt is over: failed, with the reason.
  await db.execute(sql`
    update webhook_deliveries set status = 'failed', locked_until = null,
      last_error = coalesce(last_error, 'the worker delivering it stopped') || ' (attempts exhausted)'
    where status = 'delivering' and locked_until < now() and attempts >= max_attempts`);
  const owner = sql`coalesce(user_id, '')`;
  const found = await rows<Record<string, unknown>>(
    db,
    sql`
    with recursive owners(owner) as (
      (select ${owner} from webhook_deliveries where status = 'pending' order by ${owner} limit 1)
      union all
      select (select ${owner} from webhook_deliveries where status = 'pending' and ${owner} > o.owner
              order by ${owner} limit 1)
      from owners o where o.owner is not null
    ), busy as (
      select ${owner} as owner, count(*)::int as n from webhook_deliveries
      where status = 'delivering' and locked_until >= now() group by 1
    ), offered as (
      select d.id, d.run_at, coalesce(b.n, 0) as busy from owners o
      left join busy b on b.owner = o.owner
      cross join lateral (
        select id, run_at from webhook_deliveries
        where status = 'pending' and ${owner} = o.owner and run_at <= now() and attempts < max_attempts
        order by run_at, id
        limit greatest(0, ${DELIVERIES_IN_FLIGHT_PER_OWNER}::int - coalesce(b.n, 0))
      ) d
      where o.owner is not null
      union all
      select id, run_at, 0 from webhook_deliveries
      where status = 'delivering' and locked_until < now() and attempts < max_attempts
    ), next as (
      -- The state is tested again here, where the row is locked: a delivery another worker claimed and committed
      -- since this statement's snapshot is re-read at the lock, and must then no longer qualify.
      select id from webhook_deliveries
      where id in (select id from offered order by busy, run_at, id limit ${input.limit})
        and ((status = 'pending' and run_at <= now()) or (status = 'delivering' and locked_until < now()))
        and attempts < max_attempts
      for update skip locked
    )
    update webhook_deliveries d
    set status = 'delivering', attempts = d.attempts + 1, locked_by = ${input.workerId},
        locked_until = now() + ${seconds(input.leaseMs)}
    from next, task_webhooks w
    where d.id = next.id and w.task_id = d.task_id
    returning d.id, d.task_id, d.event, d.payload, d.created_at, d.attempts, d.max_attempts, w.url, w.secret,
              w.allow_private`,
  );
  return found.map((row) => ({
    id: String(row.id),
    taskId: String(row.task_id),
    event: row.event as ClaimedDelivery['event'],
    payload: (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as Record<string, unknown>,
    createdAt: row.created_at instanceof Date ? row.created_at : new Date(String(row.created_at)),
    attempts: toNumber(row.attempts),
    maxAttempts: toNumber(row.max_attempts),
    url: String(row.url),
    secret: String(row.secret),
    allowPrivate: row.allow_private === true,
  }));
}

/** Records an attempt; false when the delivery was no longer this worker's (its lease expired and was taken). */
export async function recordAttempt(db: Executor, attempt: DeliveryAttempt): Promise<boolean> {
  const status = attempt.delivered ? 'succeeded' : attempt.retryInMs === null ? 'failed' : 'pending';
  const updated = await rows<{ id: unknown }>(
    db,
    sql`
    update webhook_deliveries
    set status = ${status}::webhook_delivery_status, locked_until = null,
        run_at = case when ${status} = 'pending' then now() + ${seconds(attempt.retryInMs ?? 0)} else run_at end,
        delivered_at = case when ${attempt.delivered} then now() else delivered_at end,
        last_status = ${attempt.lastStatus}, last_error = ${attempt.lastError}, last_response = ${attempt.lastResponse}
    where id = ${attempt.id} and status = 'delivering' and locked_by = ${attempt.workerId}
    returning id`,
  );
  return updated.length > 0;
}
