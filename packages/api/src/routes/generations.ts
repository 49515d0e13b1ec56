/** `/v1/generations/{id}`: a generation's media with their status (the seed's `update_generation_media` counterpart). */
import { createRoute, z } from '@hono/zod-openapi';
import { getGeneration, TASK_STATUSES } from '@mediaforge/core';
import { principalScope } from '../auth.ts';
import { GenerationIdParam, GenerationQuery, nextRecordsCursor } from '../media-schemas.ts';
import { RecordSchema, toRecordDto } from '../schemas.ts';
import type { Services } from '../services.ts';
import { bearer, errors, json, router } from './common.ts';

const isoDate = z.iso.datetime();

export const GenerationSchema = z
  .object({
    generationId: z.string(),
    counts: z.object({
      pending: z.number().int(),
      processing: z.number().int(),
      uploaded: z.number().int(),
      failed: z.number().int(),
      total: z.number().int(),
    }),
    media: z.array(RecordSchema),
    truncated: z.boolean().openapi({ description: 'More records follow those `media` lists (see nextCursor)' }),
    nextCursor: nextRecordsCursor,
    tasks: z.array(
      z.object({
        taskId: z.uuid(),
        kind: z.string(),
        status: z.enum(TASK_STATUSES),
        createdAt: isoDate,
        finishedAt: isoDate.nullable(),
      }),
    ),
  })
  .openapi('Generation');

const showGeneration = createRoute({
  method: 'get',
  path: '/generations/{id}',
  tags: ['Records'],
  security: bearer,
  summary: "A generation's media (its records, oldest first) with their status, counts by status, and its tasks",
  request: { params: GenerationIdParam, query: GenerationQuery },
  responses: { 200: json(GenerationSchema, 'The generation'), ...errors(400, 404) },
});

export function generationRoutes(services: Services) {
  return router().openapi(showGeneration, async (c) => {
    const { id } = c.req.valid('param');
    const { limit, cursor } = c.req.valid('query');
    const view = await getGeneration(services.database.db, id, principalScope(c.get('principal')), {
      ...(limit === undefined ? {} : { limit }),
      cursor,
    });
    return c.json(
      {
        ...view,
        media: view.media.map(toRecordDto),
        tasks: view.tasks.map((task) => ({
          ...task,
          createdAt: task.createdAt.toISOString(),
          finishedAt: task.finishedAt?.toISOString() ?? null,
        })),
      },
      200,
    );
  });
}
