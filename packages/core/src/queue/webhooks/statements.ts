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

/** Claims up to `limit` due deliveries (new, due for a retry, or left by a dead holder) under a lease. */
export async function claimDeliveries(
  db: Executor,
  input: { workerId: string; limit: number; leaseMs: number },
): Promise<ClaimedDelivery[]> {
  // A dead holder's delivery that already used its last attempt is over: failed, with the reason.
  await db.execute(sql`
    update webhook_deliveries set status = 'failed', locked_until = null,
      last_error = coalesce(last_error, 'the worker delivering it stopped') || ' (attempts exhausted)'
    where status = 'delivering' and locked_until < now() and attempts >= max_attempts`);
  const found = await rows<Record<string, unknown>>(
    db,
    sql`
    with next as (
      select id from webhook_deliveries
      where ((status = 'pending' and run_at <= now()) or (status = 'delivering' and locked_until < now()))
        and attempts < max_attempts
      order by run_at, id
      limit ${input.limit}
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
