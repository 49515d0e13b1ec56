/** Request and response shapes of a task's items (beside schemas.ts): the pages of GET /v1/tasks/{id}/items. */
import { z } from '@hono/zod-openapi';
import { publicSourceUrl, TASK_ITEM_PAGE_BYTES, TASK_STATUSES, type TaskItemRow } from '@mediaforge/core';
import { pageLimit } from './page-limit.ts';

const isoDate = z.iso.datetime().openapi({ example: '2026-11-21T10:00:00.000Z' });

export const TaskItemSchema = z
  .object({
    id: z.number().int(),
    seq: z.number().int(),
    status: z.enum(TASK_STATUSES),
    attempts: z.number().int(),
    payload: z.record(z.string(), z.unknown()),
    result: z.record(z.string(), z.unknown()).nullable(),
    errorCode: z.string().nullable(),
    errorMessage: z.string().nullable(),
    lockedBy: z.string().nullable(),
    startedAt: isoDate.nullable(),
    finishedAt: isoDate.nullable(),
  })
  .openapi('TaskItem');

/** A task item's payload as callers see it: its URL without credentials, query or fragment (signed-URL tokens). */
export function publicPayload(payload: Record<string, unknown>): Record<string, unknown> {
  return typeof payload.url === 'string' ? { ...payload, url: publicSourceUrl(payload.url) } : payload;
}

/** An item as a caller sees it; which worker holds it (host and pid) only for admin keys. */
export function toTaskItemDto(item: TaskItemRow, { admin }: { admin: boolean }): z.infer<typeof TaskItemSchema> {
  return {
    id: item.id,
    seq: item.seq,
    status: item.status,
    attempts: item.attempts,
    payload: publicPayload(item.payload),
    result: item.result,
    errorCode: item.errorCode,
    errorMessage: item.errorMessage,
    lockedBy: admin ? item.lockedBy : null,
    startedAt: item.startedAt?.toISOString() ?? null,
    finishedAt: item.finishedAt?.toISOString() ?? null,
  };
}

export const TaskItemsQuery = z.object({
  status: z.enum(TASK_STATUSES).optional(),
  afterSeq: z.coerce
    .number()
    .int()
    .min(-1)
    .optional()
    .openapi({ description: "Items after this seq: a previous page's nextAfterSeq" }),
  limit: pageLimit(
    `At most this many items (1–1000, default 100), fewer once their payloads, results and errors pass ` +
      `${TASK_ITEM_PAGE_BYTES / 1024 / 1024} MiB: page on while nextAfterSeq is set, not until a page is short`,
  ),
});

export const TaskItemPageSchema = z
  .object({
    items: z.array(TaskItemSchema),
    nextAfterSeq: z
      .number()
      .int()
      .optional()
      .openapi({ description: 'Present when more items follow: pass it back as `afterSeq` for the next page' }),
  })
  .openapi('TaskItemPage');
