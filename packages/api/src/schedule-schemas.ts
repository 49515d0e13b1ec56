/** Request and response shapes of `/v1/schedules` and `/v1/optimize` (zod, in the OpenAPI document). */
import { z } from '@hono/zod-openapi';
import { MAX_URL_LENGTH, SCHEDULE_ACTIONS, type ScheduleRow, type ScheduleRunRow } from '@mediaforge/core';
import { queueFields } from './schemas.ts';

const iso = z.iso.datetime();

export const ScheduleBody = z
  .object({
    cron: z
      .string()
      .min(1)
      .max(200)
      .openapi({ description: '5 fields, or 6 with seconds first', example: '*/5 * * * *' }),
    action: z.enum(SCHEDULE_ACTIONS),
    timezone: z.string().max(64).optional().openapi({ description: 'IANA zone; default UTC' }),
    name: z.string().min(1).max(100).optional(),
    userId: z.string().max(200).optional().openapi({ description: "Admin keys only; default: the key's user" }),
    params: z
      .object({
        limit: z.number().int().min(1).optional(),
        fileSizeKb: z.number().positive().max(102_400).optional(),
        urls: z.array(z.string().min(1).max(MAX_URL_LENGTH)).min(1).optional(),
        quality: z.number().int().min(1).max(100).optional(),
        compress: z.boolean().optional(),
        allowPrivate: z.boolean().optional().openapi({ description: 'Admin keys only' }),
        olderThanDays: z.number().int().min(1).max(3650).optional(),
      })
      .strict()
      .optional(),
  })
  .openapi('ScheduleRequest');

export const ScheduleSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    cron: z.string(),
    timezone: z.string(),
    action: z.enum(SCHEDULE_ACTIONS),
    params: z.record(z.string(), z.unknown()),
    userId: z.string().nullable(),
    nextRunAt: iso,
    lastTick: iso.nullable(),
    lastTaskId: z.string().nullable(),
    lastError: z.string().nullable(),
    fired: z.number().int(),
    skipped: z.number().int().openapi({ description: 'Ticks missed while no worker ran (only the latest fires)' }),
    createdAt: iso,
  })
  .openapi('Schedule');

export const ScheduleRunSchema = z
  .object({ tick: iso, taskId: z.string().nullable(), errorCode: z.string().nullable(), firedAt: iso })
  .openapi('ScheduleRun');

// Optimization tasks take routing and limits but no webhook (and no Idempotency-Key): refused, not ignored.
const { webhook: _noWebhook, ...optimizeQueueFields } = queueFields;

export const OptimizeBody = z
  .object({
    userId: z.string().max(200).optional().openapi({ description: 'Admin keys: any user; others: their own' }),
    generationId: z.string().max(200).optional(),
    quality: z.number().int().min(1).max(100).optional(),
    limit: z.number().int().min(1).optional(),
    ...optimizeQueueFields,
  })
  .strict()
  .openapi('OptimizeRequest');

export function toScheduleDto(row: ScheduleRow): z.infer<typeof ScheduleSchema> {
  return {
    id: row.id,
    name: row.name,
    cron: row.cron,
    timezone: row.timezone,
    action: row.action,
    params: row.params,
    userId: row.userId,
    nextRunAt: row.nextRunAt.toISOString(),
    lastTick: row.lastTick?.toISOString() ?? null,
    lastTaskId: row.lastTaskId,
    lastError: row.lastError,
    fired: row.fired,
    skipped: row.skipped,
    createdAt: row.createdAt.toISOString(),
  };
}

export function toScheduleRunDto(row: ScheduleRunRow): z.infer<typeof ScheduleRunSchema> {
  return {
    tick: row.tick.toISOString(),
    taskId: row.taskId,
    errorCode: row.errorCode,
    firedAt: row.firedAt.toISOString(),
  };
}
