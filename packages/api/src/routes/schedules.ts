/** `/v1/schedules…` (cron schedules, owner-scoped in the core) and `/v1/optimize` (recompress stored images). */
import { createRoute, z } from '@hono/zod-openapi';
import { queueOptimization, Schedules } from '@mediaforge/core';
import { principalScope } from '../auth.ts';
import { ApiError } from '../errors.ts';
import {
  OptimizeBody,
  ScheduleBody,
  ScheduleRunSchema,
  ScheduleSchema,
  toScheduleDto,
  toScheduleRunDto,
} from '../schedule-schemas.ts';
import { QueuedSchema, TaskIdParam } from '../schemas.ts';
import type { Services } from '../services.ts';
import { bearer, errors, json, router } from './common.ts';
import { activeTaskLimit, checkQueueOptions, routing } from './queue-options.ts';

const tags = ['Schedules'];

const addSchedule = createRoute({
  method: 'post',
  path: '/schedules',
  tags,
  security: bearer,
  summary: 'Add a cron schedule that queues generate auto, a URL ingest or maintenance (admin) on each tick',
  request: { body: { required: true, content: { 'application/json': { schema: ScheduleBody } } } },
  responses: { 201: json(ScheduleSchema, 'The schedule'), ...errors(400, 403, 409) },
});

const listSchedules = createRoute({
  method: 'get',
  path: '/schedules',
  tags,
  security: bearer,
  summary: "The caller's schedules (an admin key: everyone's)",
  responses: { 200: json(z.object({ schedules: z.array(ScheduleSchema) }), 'Schedules'), ...errors() },
});

const getSchedule = createRoute({
  method: 'get',
  path: '/schedules/{id}',
  tags,
  security: bearer,
  summary: 'One schedule',
  request: { params: TaskIdParam },
  responses: { 200: json(ScheduleSchema, 'The schedule'), ...errors(400, 404) },
});

const scheduleRuns = createRoute({
  method: 'get',
  path: '/schedules/{id}/runs',
  tags,
  security: bearer,
  summary: 'The ticks a schedule fired, newest first, with the task each queued',
  request: { params: TaskIdParam, query: z.object({ limit: z.coerce.number().int().min(1).max(1000).optional() }) },
  responses: { 200: json(z.object({ runs: z.array(ScheduleRunSchema) }), 'Runs'), ...errors(400, 404) },
});

const removeSchedule = createRoute({
  method: 'delete',
  path: '/schedules/{id}',
  tags,
  security: bearer,
  summary: 'Remove a schedule (tasks it queued stay)',
  request: { params: TaskIdParam },
  responses: { 204: { description: 'Removed' }, ...errors(400, 404) },
});

const optimize = createRoute({
  method: 'post',
  path: '/optimize',
  tags: ['Tasks'],
  security: bearer,
  summary: "Queue recompression of stored images (a user's or a generation's) on the optimization queue",
  request: { body: { required: true, content: { 'application/json': { schema: OptimizeBody } } } },
  responses: { 202: json(QueuedSchema, 'Queued'), ...errors(400, 403, 409, 413, 422) },
});

export function scheduleRoutes(services: Services) {
  const schedules = new Schedules({ database: services.database, settings: services.settings });
  return router()
    .openapi(addSchedule, async (c) => {
      const { userId, ...body } = c.req.valid('json');
      const row = await schedules.add(principalScope(c.get('principal'), userId), body);
      return c.json(toScheduleDto(row), 201);
    })
    .openapi(listSchedules, async (c) => {
      const found = await schedules.list(principalScope(c.get('principal')));
      return c.json({ schedules: found.map(toScheduleDto) }, 200);
    })
    .openapi(getSchedule, async (c) => {
      const row = await schedules.get(c.req.valid('param').id, principalScope(c.get('principal')));
      return c.json(toScheduleDto(row), 200);
    })
    .openapi(scheduleRuns, async (c) => {
      const { limit } = c.req.valid('query');
      const runs = await schedules.runs(c.req.valid('param').id, principalScope(c.get('principal')), {
        ...(limit ? { limit } : {}),
      });
      return c.json({ runs: runs.map(toScheduleRunDto) }, 200);
    })
    .openapi(removeSchedule, async (c) => {
      await schedules.remove(c.req.valid('param').id, principalScope(c.get('principal')));
      return c.body(null, 204);
    })
    .openapi(optimize, async (c) => {
      const body = c.req.valid('json');
      const principal = c.get('principal');
      if (c.req.header('idempotency-key') !== undefined) {
        throw new ApiError(400, 'VALIDATION_ERROR', 'Idempotency-Key is not supported on /v1/optimize.');
      }
      await checkQueueOptions(services, principal, body);
      const taskId = await queueOptimization(services.tasks, services.database, services.settings.maxBatchSize, {
        scope: principalScope(principal, body.userId),
        ...(body.userId ? { userId: body.userId } : {}),
        ...(body.generationId ? { generationId: body.generationId } : {}),
        ...(body.quality ? { quality: body.quality } : {}),
        ...(body.limit ? { limit: body.limit } : {}),
        ...routing(body),
        ...activeTaskLimit(services, principal),
      });
      const location = `/v1/tasks/${taskId}`;
      c.header('Location', location);
      return c.json({ taskId, status: 'queued' as const, location }, 202);
    });
}
