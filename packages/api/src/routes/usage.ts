/** `/v1/usage`: what a user's stored files and records take up, against the per-user quotas. */
import { createRoute, z } from '@hono/zod-openapi';
import { userUsage } from '@mediaforge/core';
import { principalScope } from '../auth.ts';
import { ApiError } from '../errors.ts';
import type { Services } from '../services.ts';
import { bearer, errors, json, router } from './common.ts';

export const UsageSchema = z
  .object({
    userId: z.string(),
    storageBytes: z.number().int().openapi({ description: "Bytes of the user's live stored objects" }),
    records: z.number().int(),
    taskBytes: z
      .number()
      .int()
      .openapi({ description: "Bytes of input the user's tasks keep until their items are pruned" }),
    limits: z.object({
      storageBytes: z.number().int().openapi({ description: '`USER_STORAGE_QUOTA_MB` in bytes; 0: unlimited' }),
      maxRecords: z.number().int().openapi({ description: '`USER_MAX_RECORDS`; 0: unlimited' }),
      taskBytes: z.number().int().openapi({ description: '`USER_TASK_STORAGE_MB` in bytes; 0: unlimited' }),
    }),
  })
  .openapi('Usage');

const UsageQuery = z.object({
  userId: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ description: "Admin keys: whose usage (required). Other keys: their own user's, the default." }),
});

const showUsage = createRoute({
  method: 'get',
  path: '/usage',
  tags: ['Records'],
  security: bearer,
  summary: "A user's stored bytes, record count and kept task input, with the quotas that apply",
  request: { query: UsageQuery },
  responses: { 200: json(UsageSchema, 'The usage'), ...errors(400, 403) },
});

export function usageRoutes(services: Services) {
  return router().openapi(showUsage, async (c) => {
    const scope = principalScope(c.get('principal'), c.req.valid('query').userId ?? null);
    if (scope.all) throw new ApiError(400, 'VALIDATION_ERROR', 'An admin key must name the user: ?userId=…');
    return c.json(await userUsage(services.database.db, scope.userId, services.settings.quota), 200);
  });
}
