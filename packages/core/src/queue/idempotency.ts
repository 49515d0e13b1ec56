/**
 * Idempotency keys on enqueue: the same key from the same owner within the retention window returns the task it
 * created; the same key with a different request is refused (IDEMPOTENCY_KEY_REUSED). The check and the insert run
 * under a per-(owner, key) advisory lock in the enqueue's transaction, so concurrent identical requests, from any
 * process, create exactly one task.
 */
import { createHash, createHmac } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { tasksLock, withOwnerGates } from '../db/owner-gates.ts';
import { FileProcessingError } from '../errors.ts';
import { type Executor, rows } from './rows.ts';
import { insertTaskWebhook, type WebhookSpec } from './webhooks/task-webhook.ts';

/** How long a key names its task: after this, the key may be used for a new task. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 3_600_000;
const KEY = /^[\x21-\x7e]{1,200}$/;

export class IdempotencyKeyReusedError extends FileProcessingError {
  constructor(key: string, taskId: string) {
    super(
      `Idempotency key ${JSON.stringify(key)} was used for a different request (task ${taskId}); use a new key for a new request.`,
      'IDEMPOTENCY_KEY_REUSED',
      { details: { idempotencyKey: key, taskId } },
    );
  }
}

export function checkIdempotencyKey(key: string): string {
  if (!KEY.test(key)) {
    throw new FileProcessingError(
      'An idempotency key is 1 to 200 printable ASCII characters without spaces.',
      'VALIDATION_ERROR',
    );
  }
  return key;
}

/**
 * A stable hash of what a request asks for (keys sorted), compared when a key comes back. Keyed (HMAC) with `secret`
 * when one is given: a request can carry ingest headers (tokens), and a plain hash of them stored in the database
 * would let a reader confirm a guessed token.
 */
export function requestHash(request: unknown, secret?: string): string {
  const stable = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(stable);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>)
          .filter(([, v]) => v !== undefined)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([k, v]) => [k, stable(v)]),
      );
    }
    return value;
  };
  return (secret ? createHmac('sha256', secret) : createHash('sha256'))
    .update(JSON.stringify(stable(request)))
    .digest('hex');
}

export interface EnqueueExtras {
  /** The task's owner ('' or null: no owner); keys are per owner. */
  owner: string | null;
  idempotencyKey?: string;
  /** `requestHash` of the request; required with a key. */
  hash?: string;
  webhook?: WebhookSpec;
}

/**
 * The task an earlier request with the same key created (within the retention window), or undefined.
 * @throws IdempotencyKeyReusedError when that request differed
 */
export async function findReplay(db: Executor, extras: EnqueueExtras): Promise<string | undefined> {
  const key = extras.idempotencyKey;
  if (key === undefined) return undefined;
  // Judged by the database clock, as every other age in the queue.
  const [found] = await rows<{ task_id: string; request_hash: string; fresh: boolean }>(
    db,
    sql`select task_id, request_hash,
               created_at > now() - make_interval(secs => ${IDEMPOTENCY_RETENTION_MS / 1000}) as fresh
        from task_idempotency where owner = ${extras.owner ?? ''} and key = ${key}`,
  );
  if (!found?.fresh) return undefined;
  if (found.request_hash !== extras.hash) throw new IdempotencyKeyReusedError(key, found.task_id);
  return found.task_id;
}

/**
 * Runs `insert` (which enqueues with the given transaction, its items marked when the webhook wants each of them)
 * with the webhook and idempotency key beside it, in the caller's transaction or a new one. Returns the new task's
 * id, or the earlier task's for a repeated key.
 */
export async function enqueueWithExtras(
  db: Db,
  extras: EnqueueExtras,
  tx: Executor | undefined,
  insert: (tx: Executor, marks: { itemWebhook: boolean }) => Promise<string>,
): Promise<string> {
  const owner = extras.owner ?? '';
  const run = async (inner: Executor): Promise<string> => {
    const key = extras.idempotencyKey;
    if (key !== undefined) {
      await inner.execute(sql`select pg_advisory_xact_lock(hashtext(${`mediaforge-idem:${owner}:${key}`}))`);
      const replayed = await findReplay(inner, extras);
      if (replayed) return replayed;
      // An expired key (if any) gives way to the new task.
      await inner.execute(sql`delete from task_idempotency where owner = ${owner} and key = ${key}`);
    }
    const taskId = await insert(inner, { itemWebhook: extras.webhook?.eachItem ?? false });
    if (extras.webhook) await insertTaskWebhook(inner, taskId, extras.webhook);
    if (key !== undefined) {
      await inner.execute(sql`
        insert into task_idempotency (owner, key, request_hash, task_id)
        values (${owner}, ${key}, ${extras.hash ?? ''}, ${taskId})`);
    }
    return taskId;
  };
  if (tx) return run(tx);
  // The key's lock, and the user's task lock the enqueue takes: taken in turn in this process before a connection is.
  const gates = [
    ...(extras.owner ? [tasksLock(extras.owner)] : []),
    ...(extras.idempotencyKey !== undefined ? [`mediaforge-idem:${owner}:${extras.idempotencyKey}`] : []),
  ];
  return withOwnerGates(db, gates, () => db.transaction((inner) => run(inner as unknown as Executor)));
}
