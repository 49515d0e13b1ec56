/** What a task's webhook did: its deliveries with attempts, last status and the first bytes of the last answer. */
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/database.ts';
import type { WebhookDeliveryStatus } from '../../db/webhook-schema.ts';
import { publicSourceUrl } from '../../ingest/guard.ts';
import { type Scope, scopeUser } from '../../scope.ts';
import { isUid } from '../../uid.ts';
import { TaskNotFoundError } from '../queue.ts';
import { type Executor, rows, toDate, toNumber } from '../rows.ts';

export interface WebhookDeliveryView {
  id: string;
  event: string;
  itemSeq: number | null;
  status: WebhookDeliveryStatus;
  attempts: number;
  maxAttempts: number;
  lastStatus: number | null;
  lastError: string | null;
  lastResponse: string | null;
  createdAt: Date;
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
}

export interface TaskWebhookView {
  /** The URL without credentials, query or fragment. */
  url: string;
  eachItem: boolean;
  deliveries: WebhookDeliveryView[];
}

/**
 * The task's webhook and its latest deliveries (at most `limit`, 1–1000), or null when it names none.
 * @throws TaskNotFoundError for an unknown task or one outside the scope
 */
export async function taskWebhookView(
  db: Db,
  taskId: string,
  scope: Scope,
  { limit = 100 }: { limit?: number } = {},
): Promise<TaskWebhookView | null> {
  if (!isUid(taskId)) throw new TaskNotFoundError(taskId);
  const userId = scopeUser(scope);
  const [task] = await rows<Record<string, unknown>>(
    db as Executor,
    sql`
    select t.id, w.url, w.each_item from tasks t left join task_webhooks w on w.task_id = t.id
    where t.id = ${taskId} ${userId === undefined ? sql`` : sql`and t.user_id = ${userId}`}`,
  );
  if (!task) throw new TaskNotFoundError(taskId);
  if (task.url === null || task.url === undefined) return null;
  const found = await rows<Record<string, unknown>>(
    db as Executor,
    sql`
    select id, event, item_seq, status, attempts, max_attempts, last_status, last_error, last_response, created_at,
           run_at, delivered_at
    from webhook_deliveries where task_id = ${taskId}
    order by created_at desc, id limit ${Math.max(1, Math.min(limit, 1000))}`,
  );
  return {
    url: publicSourceUrl(String(task.url)) ?? '',
    eachItem: task.each_item === true,
    deliveries: found.map((row) => ({
      id: String(row.id),
      event: String(row.event),
      itemSeq: row.item_seq === null ? null : toNumber(row.item_seq),
      status: row.status as WebhookDeliveryStatus,
      attempts: toNumber(row.attempts),
      maxAttempts: toNumber(row.max_attempts),
      lastStatus: row.last_status === null ? null : toNumber(row.last_status),
      lastError: row.last_error === null ? null : String(row.last_error),
      lastResponse: row.last_response === null ? null : String(row.last_response),
      createdAt: toDate(row.created_at) as Date,
      nextAttemptAt: row.status === 'pending' ? toDate(row.run_at) : null,
      deliveredAt: toDate(row.delivered_at),
    })),
  };
}
