/**
 * Per-request options of queued work. A non-admin key may only tighten what the server runs with: a smaller file
 * size cap, a priority no higher than the default (USER_MAX_PRIORITY), fewer attempts. Any caller may only name a queue
 * some worker serves or the operator allows. Each refusal is typed; nothing is silently raised or clamped.
 */
import {
  type ApiPrincipal,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_QUEUE,
  type QueueCommon,
  type WebhookSpec,
  webhookSecretOfKeyId,
} from '@mediaforge/core';
import { ApiError } from '../errors.ts';
import type { Services } from '../services.ts';

/**
 * Highest priority a non-admin key may ask for: the default, 0 (higher runs first). Anything above it would let one
 * user's task cut ahead of every other user's (an attacker's 400-item task at 10 held another user's back 173 s).
 */
export const USER_MAX_PRIORITY = 0;

export interface QueueOptions {
  queue?: string | undefined;
  priority?: number | undefined;
  maxAttempts?: number | undefined;
  maxSizeMb?: number | undefined;
  softTimeoutSeconds?: number | undefined;
  timeoutSeconds?: number | undefined;
  maxConcurrent?: number | undefined;
}

/** The routing and limits of a request body, as the task manager takes them. */
export function routing(body: QueueOptions): QueueCommon {
  return {
    ...(body.queue !== undefined ? { queue: body.queue } : {}),
    ...(body.priority !== undefined ? { priority: body.priority } : {}),
    ...(body.maxAttempts !== undefined ? { maxAttempts: body.maxAttempts } : {}),
    ...(body.softTimeoutSeconds !== undefined ? { softTimeoutMs: body.softTimeoutSeconds * 1000 } : {}),
    ...(body.timeoutSeconds !== undefined ? { timeoutMs: body.timeoutSeconds * 1000 } : {}),
    ...(body.maxConcurrent !== undefined ? { maxConcurrent: body.maxConcurrent } : {}),
  };
}

/** @throws ApiError 403 OPTION_NOT_ALLOWED, 422 UNKNOWN_QUEUE */
export async function checkQueueOptions(
  services: Services,
  principal: ApiPrincipal,
  options: QueueOptions,
): Promise<void> {
  const { settings } = services;
  if (!principal.admin) {
    if (options.maxSizeMb !== undefined && options.maxSizeMb > settings.maxFileSizeMb) {
      throw notAllowed('maxSizeMb', options.maxSizeMb, settings.maxFileSizeMb, 'the server limit MAX_FILE_SIZE_MB');
    }
    if (options.priority !== undefined && options.priority > USER_MAX_PRIORITY) {
      throw notAllowed('priority', options.priority, USER_MAX_PRIORITY, 'the highest priority for non-admin keys');
    }
    if (options.maxAttempts !== undefined && options.maxAttempts > DEFAULT_MAX_ATTEMPTS) {
      throw notAllowed('maxAttempts', options.maxAttempts, DEFAULT_MAX_ATTEMPTS, 'the default number of attempts');
    }
    // Per-task time limits may shorten the server's, never lengthen them.
    const soft = settings.taskSoftTimeoutMinutes * 60;
    if (options.softTimeoutSeconds !== undefined && options.softTimeoutSeconds > soft) {
      throw notAllowed('softTimeoutSeconds', options.softTimeoutSeconds, soft, 'TASK_SOFT_TIMEOUT_MINUTES', ' s');
    }
    const hard = settings.taskTimeoutMinutes * 60;
    if (options.timeoutSeconds !== undefined && options.timeoutSeconds > hard) {
      throw notAllowed('timeoutSeconds', options.timeoutSeconds, hard, 'TASK_TIMEOUT_MINUTES', ' s');
    }
  }
  if (
    options.queue !== undefined &&
    options.queue !== DEFAULT_QUEUE &&
    !settings.api.allowedQueues.includes(options.queue)
  ) {
    const { workers } = await services.tasks.getWorkerStats();
    const served = workers.some(
      (worker) => worker.state !== 'stopped' && worker.queues.includes(options.queue as string),
    );
    if (!served) {
      throw new ApiError(
        422,
        'UNKNOWN_QUEUE',
        `No worker serves queue "${options.queue}": use "${DEFAULT_QUEUE}", start a worker for it, or allow it with API_ALLOWED_QUEUES.`,
        { queue: options.queue },
      );
    }
  }
}

function notAllowed(option: string, value: number, limit: number, what: string, unit = ''): ApiError {
  return new ApiError(
    403,
    'OPTION_NOT_ALLOWED',
    `${option} ${value} is above ${what} (${limit}${unit}); only an admin key may raise it.`,
    { option, value, limit },
  );
}

/**
 * The most queued or running tasks the caller's user may have, and the most bytes of input its tasks may keep in the
 * database (none for admin keys). The queue checks both when it inserts, under a per-user lock, so concurrent
 * requests cannot race past them (429 CONCURRENCY_LIMITED, 413 QUOTA_EXCEEDED).
 */
export function activeTaskLimit(
  services: Services,
  principal: ApiPrincipal,
): { maxActiveTasksForUser?: number; maxTaskBytesForUser?: number } {
  if (principal.admin) return {};
  const taskBytes = services.settings.quota.taskBytes ?? 0;
  return {
    maxActiveTasksForUser: services.settings.api.maxActiveTasksPerUser,
    ...(taskBytes > 0 ? { maxTaskBytesForUser: taskBytes } : {}),
  };
}

/**
 * The webhook and idempotency key of a queued request. The webhook's secret defaults to the calling key's webhook
 * secret. Only an admin key may let it reach private addresses: the core refuses it (403 OPTION_NOT_ALLOWED).
 */
export async function taskExtras(
  services: Services,
  principal: ApiPrincipal,
  webhook: (Omit<WebhookSpec, 'secret'> & { secret?: string | undefined }) | undefined,
  headers: { 'idempotency-key'?: string | undefined },
): Promise<{ webhook?: WebhookSpec; idempotencyKey?: string }> {
  const key = headers['idempotency-key'];
  if (!webhook) return key === undefined ? {} : { idempotencyKey: key };
  const secret = webhook.secret ?? (await webhookSecretOfKeyId(services.database.db, principal.keyId));
  return {
    webhook: { ...webhook, secret },
    ...(key === undefined ? {} : { idempotencyKey: key }),
  };
}
