/** The webhook a task names: checked when the task is queued (URL, secret, the SSRF guard) and stored beside it. */
import { sql } from 'drizzle-orm';
import { FileProcessingError } from '../../errors.ts';
import { checkUrl, type NetworkPolicy } from '../../ingest/guard.ts';
import type { Scope } from '../../scope.ts';
import type { Executor } from '../rows.ts';

/** Longest webhook URL accepted. */
export const WEBHOOK_URL_MAX = 2048;
/** Deliveries one task may cause at most (the finish, plus items when `eachItem`, plus repeats after retries). */
export const WEBHOOK_MAX_DELIVERIES_PER_TASK = 1000;

export interface WebhookSpec {
  /** Where to POST the signed events (http or https; public addresses unless allowed as for downloads). */
  url: string;
  /** The HMAC key: 16–256 characters. The API defaults it to the calling key's webhook secret. */
  secret: string;
  /** Also send `item.finished` for each item (up to the per-task cap). Default false. */
  eachItem?: boolean;
  /** Let the webhook reach private and loopback addresses (trusted operators only). Default false. */
  allowPrivate?: boolean;
}

/**
 * Checks a task's webhook for its caller: only an admin scope may let it reach private addresses.
 * @throws FileProcessingError OPTION_NOT_ALLOWED, INVALID_URL, URL_NOT_ALLOWED or VALIDATION_ERROR
 */
export function checkWebhook(spec: WebhookSpec, allowHosts: readonly string[], scope: Scope): void {
  if (spec.allowPrivate && !scope.all) {
    throw new FileProcessingError('webhook.allowPrivate needs an admin key.', 'OPTION_NOT_ALLOWED', {
      details: { option: 'webhook.allowPrivate' },
    });
  }
  if (spec.url.length > WEBHOOK_URL_MAX) {
    throw new FileProcessingError(
      `The webhook URL is ${spec.url.length} characters, over ${WEBHOOK_URL_MAX}.`,
      'INVALID_URL',
    );
  }
  const policy: NetworkPolicy = { allowPrivate: spec.allowPrivate ?? false, allowHosts };
  checkUrl(spec.url, policy);
  if (spec.secret.length < 16 || spec.secret.length > 256) {
    throw new FileProcessingError('The webhook secret must be 16 to 256 characters.', 'VALIDATION_ERROR');
  }
}

/**
 * Stores the task's webhook. An each-item webhook also marks the task's items, which the per-item trigger reads
 * (migration 0010); items the enqueue marked already are not written again.
 */
export async function insertTaskWebhook(db: Executor, taskId: string, spec: WebhookSpec): Promise<void> {
  await db.execute(sql`
    insert into task_webhooks (task_id, url, secret, each_item, allow_private, max_deliveries)
    values (${taskId}, ${spec.url}, ${spec.secret}, ${spec.eachItem ?? false}, ${spec.allowPrivate ?? false},
            ${WEBHOOK_MAX_DELIVERIES_PER_TASK})`);
  if (spec.eachItem) {
    await db.execute(sql`update task_items set item_webhook = true where task_id = ${taskId} and not item_webhook`);
  }
}
