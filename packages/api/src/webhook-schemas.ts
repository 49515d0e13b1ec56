/** Request and response shapes of webhooks, retries and dead letters (beside schemas.ts, which they extend). */
import { z } from '@hono/zod-openapi';
import {
  DEAD_LETTER_PAGE_BYTES,
  type DeadLetter,
  type TaskWebhookView,
  WEBHOOK_DELIVERY_STATUSES,
  WEBHOOK_URL_MAX,
} from '@mediaforge/core';

import { pageLimit } from './page-limit.ts';
import { publicPayload } from './task-item-schemas.ts';

const uuid = z.uuid();
const isoDate = z.iso.datetime();

export const WebhookField = z
  .object({
    url: z.string().min(1).max(WEBHOOK_URL_MAX).openapi({
      description:
        'http(s) URL; public addresses only, unless the operator allows a host (and port) in MEDIAFORGE_ALLOW_HOSTS',
    }),
    secret: z
      .string()
      .min(16)
      .max(256)
      .optional()
      .openapi({ description: "HMAC key; default: the API key's webhook secret (SHA-256 hex of its secret part)" }),
    eachItem: z.boolean().optional().openapi({ description: 'Also send item.finished for each item' }),
    allowPrivate: z.boolean().optional().openapi({ description: 'Admin keys only: reach private addresses' }),
  })
  .openapi('WebhookRequest', { description: 'POST a signed event here when the task finishes (docs/webhooks.md)' });

export const IdempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ description: 'The same key and body within 24 h return the first task; another body is a 409' }),
});

const DeliverySchema = z.object({
  id: uuid,
  event: z.string(),
  itemSeq: z.number().int().nullable(),
  status: z.enum(WEBHOOK_DELIVERY_STATUSES),
  attempts: z.number().int(),
  maxAttempts: z.number().int(),
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  lastResponse: z.string().nullable().openapi({ description: "First bytes (1 KiB at most) of the receiver's answer" }),
  createdAt: isoDate,
  nextAttemptAt: isoDate.nullable(),
  deliveredAt: isoDate.nullable(),
});

export const TaskWebhookSchema = z
  .object({
    webhook: z.object({ url: z.string(), eachItem: z.boolean(), deliveries: z.array(DeliverySchema) }).nullable(),
  })
  .openapi('TaskWebhook');

export function toTaskWebhookDto(view: TaskWebhookView | null): z.infer<typeof TaskWebhookSchema> {
  if (!view) return { webhook: null };
  return {
    webhook: {
      url: view.url,
      eachItem: view.eachItem,
      deliveries: view.deliveries.map((d) => ({
        ...d,
        createdAt: d.createdAt.toISOString(),
        nextAttemptAt: d.nextAttemptAt?.toISOString() ?? null,
        deliveredAt: d.deliveredAt?.toISOString() ?? null,
      })),
    },
  };
}

export const RetryBody = z
  .object({ failedOnly: z.boolean().optional().openapi({ description: 'Leave cancelled items alone' }) })
  .openapi('RetryRequest');

export const RetrySchema = z.object({ taskId: uuid, requeued: z.number().int() }).openapi('RetryResult');

export const DeadLettersQuery = z.object({
  taskId: uuid.optional(),
  limit: pageLimit(
    `At most this many (1–1000, default 100), fewer when their payloads and errors pass ` +
      `${DEAD_LETTER_PAGE_BYTES / 1024 / 1024} MiB: page on while nextCursor is set, not until a page is short`,
  ),
  cursor: z.string().max(200).optional().openapi({ description: "A previous page's nextCursor" }),
});

const DeadLetterSchema = z.object({
  taskId: uuid,
  itemId: z.number().int(),
  seq: z.number().int(),
  kind: z.string(),
  payload: z.record(z.string(), z.unknown()),
  attempts: z.number().int(),
  maxAttempts: z.number().int(),
  exhausted: z.boolean().openapi({ description: 'Every attempt was used (transient failures)' }),
  errorCode: z.string().nullable(),
  errorMessage: z.string().nullable(),
  finishedAt: isoDate.nullable(),
});

export const DeadLettersSchema = z
  .object({
    items: z.array(DeadLetterSchema),
    nextCursor: z.string().optional().openapi({ description: 'Present when more follow' }),
  })
  .openapi('DeadLetters');

export function toDeadLetterDto(item: DeadLetter): z.infer<typeof DeadLetterSchema> {
  const { userId: _, payload, finishedAt, ...rest } = item;
  return {
    ...rest,
    payload: publicPayload(payload),
    finishedAt: finishedAt?.toISOString() ?? null,
  };
}
