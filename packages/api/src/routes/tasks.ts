/** `/v1/ingest`, `/v1/generate`, `/v1/tasks…` and `/v1/workers`: background work, its progress and its workers. */
import { createRoute, z } from '@hono/zod-openapi';
import { recordStats, type TaskRow } from '@mediaforge/core';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { principalScope, requireAdmin } from '../auth.ts';
import type { ApiEnv } from '../env.ts';
import { requestLogger } from '../request-logger.ts';
import {
  GenerateBody,
  IngestBody,
  QueuedSchema,
  StatsSchema,
  TaskIdParam,
  TaskListQuery,
  TaskPageSchema,
  TaskSchema,
  toTaskDto,
  toWorkerDto,
  WorkersSchema,
} from '../schemas.ts';
import type { Services } from '../services.ts';
import { TaskItemPageSchema, TaskItemsQuery, toTaskItemDto } from '../task-item-schemas.ts';
import { IdempotencyHeader } from '../webhook-schemas.ts';
import { bearer, errors, json, router } from './common.ts';
import { activeTaskLimit, checkQueueOptions, routing, taskExtras } from './queue-options.ts';

const queued = (description: string) => ({
  ...json(QueuedSchema, description),
  headers: z.object({ Location: z.string().openapi({ description: 'The task: GET it for status' }) }),
});

const ingest = createRoute({
  method: 'post',
  path: '/ingest',
  tags: ['Tasks'],
  security: bearer,
  summary: 'Queue URLs to download, verify and store as new records',
  request: {
    headers: IdempotencyHeader,
    body: { required: true, content: { 'application/json': { schema: IngestBody } } },
  },
  responses: { 202: queued('Queued'), ...errors(400, 403, 409, 413, 422) },
});

const generate = createRoute({
  method: 'post',
  path: '/generate',
  tags: ['Tasks'],
  security: bearer,
  summary: 'Queue file generation for records (by uid, or `auto` for records without files)',
  request: {
    headers: IdempotencyHeader,
    body: { required: true, content: { 'application/json': { schema: GenerateBody } } },
  },
  responses: { 202: queued('Queued'), ...errors(400, 403, 404, 409, 413, 422) },
});

const listTasks = createRoute({
  method: 'get',
  path: '/tasks',
  tags: ['Tasks'],
  security: bearer,
  summary: 'Tasks newest first',
  request: { query: TaskListQuery },
  responses: { 200: json(TaskPageSchema, 'A page of tasks'), ...errors(400, 403) },
});

const getTask = createRoute({
  method: 'get',
  path: '/tasks/{id}',
  tags: ['Tasks'],
  security: bearer,
  summary: "A task's status and progress (the seed's get_task_status)",
  request: { params: TaskIdParam },
  responses: { 200: json(TaskSchema, 'The task'), ...errors(400, 404) },
});

const taskItems = createRoute({
  method: 'get',
  path: '/tasks/{id}/items',
  tags: ['Tasks'],
  security: bearer,
  summary: "A task's items in order, with their status and errors, one page at a time",
  request: { params: TaskIdParam, query: TaskItemsQuery },
  responses: { 200: json(TaskItemPageSchema, 'Items'), ...errors(400, 404) },
});

const taskEvents = createRoute({
  method: 'get',
  path: '/tasks/{id}/events',
  tags: ['Tasks'],
  security: bearer,
  summary: 'Live progress as Server-Sent Events',
  description:
    'Sends `progress` (a Task) whenever the task changes, then `done` (the final Task, with processedFileIds) ' +
    'and closes. Comments keep idle connections alive.',
  request: { params: TaskIdParam },
  responses: {
    200: { description: 'An event stream', content: { 'text/event-stream': { schema: z.string() } } },
    ...errors(400, 404),
  },
});

const cancelTask = createRoute({
  method: 'delete',
  path: '/tasks/{id}',
  tags: ['Tasks'],
  security: bearer,
  summary: 'Cancel a task: queued items never run, running ones are aborted on their workers',
  request: { params: TaskIdParam },
  responses: {
    200: json(TaskSchema.extend({ cancelled: z.boolean() }), 'The task after the cancel'),
    ...errors(400, 404),
  },
});

const workers = createRoute({
  method: 'get',
  path: '/workers',
  tags: ['Workers'],
  security: bearer,
  summary: 'Workers with their hosts, heartbeats and throughput (admin keys only)',
  request: { query: z.object({ all: z.enum(['true', 'false']).optional() }) },
  responses: { 200: json(WorkersSchema, 'Workers'), ...errors(403) },
});

const stats = createRoute({
  method: 'get',
  path: '/stats',
  tags: ['Records'],
  security: bearer,
  summary: 'Totals: records, files, bytes by media type, duplicates and bytes saved, active tasks',
  responses: { 200: json(StatsSchema, 'Totals'), ...errors() },
});

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

export function taskRoutes(services: Services) {
  const { tasks } = services;
  const location = (id: string) => `/v1/tasks/${id}`;
  return router()
    .openapi(ingest, async (c) => {
      const body = c.req.valid('json');
      const scope = principalScope(c.get('principal'), body.userId);
      const { maxSizeMb, ...options } = body.options ?? {};
      await checkQueueOptions(services, c.get('principal'), { ...body, maxSizeMb });
      const taskId = await tasks.queueFileProcessing({
        urls: body.urls,
        scope,
        generationId: body.generationId ?? null,
        options: { ...options, ...(maxSizeMb === undefined ? {} : { maxSize: Math.floor(maxSizeMb * 1024 * 1024) }) },
        ...routing(body),
        ...activeTaskLimit(services, c.get('principal')),
        ...(await taskExtras(services, c.get('principal'), body.webhook, c.req.valid('header'))),
      });
      c.header('Location', location(taskId));
      return c.json({ taskId, status: 'queued' as const, location: location(taskId) }, 202);
    })
    .openapi(generate, async (c) => {
      const body = c.req.valid('json');
      await checkQueueOptions(services, c.get('principal'), body);
      const taskId = await tasks.queueRecordGeneration({
        ...(body.uids ? { uids: body.uids } : {}),
        ...(body.auto ? { auto: body.auto } : {}),
        ...(body.fileSizeKb === undefined ? {} : { fileSizeKb: body.fileSizeKb }),
        ...(body.force === undefined ? {} : { force: body.force }),
        scope: principalScope(c.get('principal')),
        ...routing(body),
        ...activeTaskLimit(services, c.get('principal')),
        ...(await taskExtras(services, c.get('principal'), body.webhook, c.req.valid('header'))),
      });
      c.header('Location', location(taskId));
      return c.json({ taskId, status: 'queued' as const, location: location(taskId) }, 202);
    })
    .openapi(listTasks, async (c) => {
      const query = c.req.valid('query');
      const { userId, ...filter } = query;
      const page = await tasks.listTasks(principalScope(c.get('principal'), userId), filter);
      const items = await Promise.all(page.tasks.map((task) => tasks.statusOf(task, { withFileIds: false })));
      return c.json({ items: items.map(toTaskDto), nextCursor: page.nextCursor }, 200);
    })
    .openapi(getTask, async (c) => {
      const { id } = c.req.valid('param');
      return c.json(toTaskDto(await tasks.getTaskStatus(id, principalScope(c.get('principal')))), 200);
    })
    .openapi(taskItems, async (c) => {
      const { id } = c.req.valid('param');
      const page = await tasks.listItems(id, principalScope(c.get('principal')), c.req.valid('query'));
      const admin = c.get('principal').admin;
      const items = page.items.map((item) => toTaskItemDto(item, { admin }));
      return c.json(page.nextAfterSeq === undefined ? { items } : { items, nextAfterSeq: page.nextAfterSeq }, 200);
    })
    .openapi(taskEvents, async (c) => {
      const { id } = c.req.valid('param');
      const first = await tasks.getTask(id, principalScope(c.get('principal')));
      // At most MAX_EVENT_STREAMS_PER_KEY open at once per key: each holds a connection past the idle timeout.
      const release = services.eventStreams.acquire(c.get('principal').keyId);
      // Keep-alive comments flow every 15 s; the stream ends when the task does or the client leaves.
      c.env?.keepOpen?.();
      return streamTaskEvents(c as unknown as Context<ApiEnv>, services, first, release) as never;
    })
    .openapi(cancelTask, async (c) => {
      const { id } = c.req.valid('param');
      const scope = principalScope(c.get('principal'));
      const status = await tasks.getTaskStatus(id, scope);
      const cancelled = status.ready ? false : await tasks.cancelTask(id, scope);
      requestLogger(c)?.info({ taskId: id, cancelled }, 'task cancel requested');
      const after = await tasks.getTaskStatus(id, scope);
      return c.json({ ...toTaskDto(after), cancelled }, 200);
    })
    .openapi(workers, async (c) => {
      requireAdmin(c.get('principal'));
      const all = c.req.valid('query').all === 'true';
      const found = await tasks.getWorkerStats();
      const shown = all ? found.workers : found.workers.filter((worker) => worker.state !== 'stopped');
      return c.json(
        { workers: shown.map(toWorkerDto), activeTasks: found.activeTasks, activeItems: found.activeItems },
        200,
      );
    })
    .openapi(stats, async (c) => {
      const scope = principalScope(c.get('principal'));
      const [totals, activeTasks] = await Promise.all([
        recordStats(services.database.db, scope),
        tasks.activeTaskCount(scope),
      ]);
      return c.json({ ...totals, activeTasks }, 200);
    });
}

const KEEPALIVE_MS = 15_000;

/** `progress` on every change, `done` at the end; stops when the client goes away. */
function streamTaskEvents(c: Context<ApiEnv>, services: Services, first: TaskRow, release: () => void) {
  return streamSSE(c, async (stream) => {
    let last = '';
    let finished = false;
    let wake: (() => void) | undefined;
    const queue: TaskRow[] = [first];
    const unsubscribe = services.events.subscribe(first.id, (task) => {
      if (!task) {
        finished = true;
      } else {
        queue.push(task);
      }
      wake?.();
    });
    stream.onAbort(() => {
      finished = true;
      wake?.();
    });
    let eventId = 0;
    try {
      while (!finished) {
        const task = queue.splice(0).at(-1);
        if (task) {
          const view = toTaskDto(await services.tasks.statusOf(task, { withFileIds: false }));
          const data = JSON.stringify(view);
          if (TERMINAL.has(task.status)) {
            const done = toTaskDto(await services.tasks.statusOf(task));
            await stream.writeSSE({ event: 'done', data: JSON.stringify(done), id: String(++eventId) });
            break;
          }
          if (data !== last) {
            last = data;
            await stream.writeSSE({ event: 'progress', data, id: String(++eventId) });
          }
        }
        // Sleep until the next snapshot or the keep-alive, whichever comes first.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            wake = undefined;
            resolve();
          }, KEEPALIVE_MS);
          wake = () => {
            clearTimeout(timer);
            wake = undefined;
            resolve();
          };
        });
        if (queue.length === 0 && !finished) await stream.write(': keep-alive\n\n');
      }
    } finally {
      unsubscribe();
      release();
    }
  });
}
