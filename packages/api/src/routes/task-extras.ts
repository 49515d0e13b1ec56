/** `/v1/tasks/{id}/retry`, `/v1/tasks/{id}/webhook` and `/v1/dead-letters`: failed work and who was told. */
import { createRoute } from '@hono/zod-openapi';
import { listDeadLetters, retryTask, taskWebhookView } from '@mediaforge/core';
import { principalScope } from '../auth.ts';
import { requestLogger } from '../request-logger.ts';
import { TaskIdParam } from '../schemas.ts';
import type { Services } from '../services.ts';
import {
  DeadLettersQuery,
  DeadLettersSchema,
  RetryBody,
  RetrySchema,
  TaskWebhookSchema,
  toDeadLetterDto,
  toTaskWebhookDto,
} from '../webhook-schemas.ts';
import { bearer, errors, json, router } from './common.ts';
import { activeTaskLimit } from './queue-options.ts';

const retry = createRoute({
  method: 'post',
  path: '/tasks/{id}/retry',
  tags: ['Tasks'],
  security: bearer,
  summary: "Queue a task's failed (and cancelled) items again with fresh attempts",
  request: { params: TaskIdParam, body: { required: false, content: { 'application/json': { schema: RetryBody } } } },
  responses: { 200: json(RetrySchema, 'Items queued again'), ...errors(400, 404) },
});

const webhook = createRoute({
  method: 'get',
  path: '/tasks/{id}/webhook',
  tags: ['Tasks'],
  security: bearer,
  summary: "A task's webhook and its deliveries: attempts, last status, first bytes of the last answer",
  request: { params: TaskIdParam },
  responses: { 200: json(TaskWebhookSchema, 'The webhook (null when the task names none)'), ...errors(400, 404) },
});

const deadLetters = createRoute({
  method: 'get',
  path: '/dead-letters',
  tags: ['Tasks'],
  security: bearer,
  summary: 'Failed items (newest first) with their last error; retry them with POST /v1/tasks/{id}/retry',
  request: { query: DeadLettersQuery },
  responses: { 200: json(DeadLettersSchema, 'Dead letters'), ...errors(400) },
});

export function taskExtraRoutes(services: Services) {
  const { db } = services.database;
  return router()
    .openapi(retry, async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.header('content-type')?.includes('json') ? c.req.valid('json') : {};
      const principal = c.get('principal');
      const result = await retryTask(db, id, principalScope(principal), {
        ...(body ?? {}),
        ...activeTaskLimit(services, principal),
      });
      requestLogger(c)?.info(result, 'task retried');
      return c.json(result, 200);
    })
    .openapi(webhook, async (c) => {
      const { id } = c.req.valid('param');
      return c.json(toTaskWebhookDto(await taskWebhookView(db, id, principalScope(c.get('principal')))), 200);
    })
    .openapi(deadLetters, async (c) => {
      const found = await listDeadLetters(db, principalScope(c.get('principal')), c.req.valid('query'));
      const items = found.items.map(toDeadLetterDto);
      return c.json(found.nextCursor ? { items, nextCursor: found.nextCursor } : { items }, 200);
    });
}
