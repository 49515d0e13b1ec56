/** `/v1/records`: create, list, show, delete, and generate a record's file synchronously. */
import { createRoute, z } from '@hono/zod-openapi';
import { deleteRecord as deleteRecordWithFile } from '@mediaforge/core';
import { principalScope } from '../auth.ts';
import { ApiError } from '../errors.ts';
import {
  CreateRecordsSchema,
  GenerateRecordBody,
  GenerateRecordResult,
  ListRecordsQuery,
  RecordPageSchema,
  RecordSchema,
  toRecordDto,
  UidParam,
} from '../schemas.ts';
import type { Services } from '../services.ts';
import { bearer, errors, json, router } from './common.ts';

const tags = ['Records'];

const createRecords = createRoute({
  method: 'post',
  path: '/records',
  tags,
  security: bearer,
  summary: 'Create one record, or many at once (all or none)',
  request: { body: { required: true, content: { 'application/json': { schema: CreateRecordsSchema } } } },
  responses: {
    201: json(z.union([RecordSchema, z.object({ items: z.array(RecordSchema) })]), 'Created'),
    ...errors(400, 403, 409, 413),
  },
});

const listRecords = createRoute({
  method: 'get',
  path: '/records',
  tags,
  security: bearer,
  summary: 'List records oldest first, filtered, one keyset page at a time',
  request: { query: ListRecordsQuery },
  responses: { 200: json(RecordPageSchema, 'A page of records'), ...errors(400, 403) },
});

const getRecord = createRoute({
  method: 'get',
  path: '/records/{uid}',
  tags,
  security: bearer,
  summary: 'Show one record',
  request: { params: UidParam },
  responses: { 200: json(RecordSchema, 'The record'), ...errors(400, 404) },
});

const deleteRecord = createRoute({
  method: 'delete',
  path: '/records/{uid}',
  tags,
  security: bearer,
  summary: 'Delete a record and its stored object (kept while other records share it)',
  request: { params: UidParam },
  responses: {
    200: json(RecordSchema.extend({ objectDeleted: z.boolean() }), 'The deleted record'),
    ...errors(400, 404),
  },
});

const generateRecord = createRoute({
  method: 'post',
  path: '/records/{uid}/generate',
  tags,
  security: bearer,
  summary: "Synthesize, verify and store this record's file now (use POST /v1/generate for batches)",
  request: {
    params: UidParam,
    body: { required: false, content: { 'application/json': { schema: GenerateRecordBody } } },
  },
  responses: { 200: json(GenerateRecordResult, 'The record with its file'), ...errors(400, 404, 409, 429) },
});

export function recordRoutes(services: Services) {
  return router()
    .openapi(createRecords, async (c) => {
      const principal = c.get('principal');
      const body = c.req.valid('json');
      const many = 'records' in body;
      const inputs = many ? body.records : [body];
      if (inputs.length > services.settings.maxBatchSize) {
        throw new ApiError(400, 'BATCH_TOO_LARGE', `At most ${services.settings.maxBatchSize} records per request.`, {
          count: inputs.length,
          limit: services.settings.maxBatchSize,
        });
      }
      // Records are created for the key's user (admins: for whom each record names).
      const owned = inputs.map((input) => ({
        ...input,
        ...(principal.admin ? {} : { userId: principal.userId }),
        ...(input.userId !== undefined ? { userId: input.userId } : {}),
      }));
      const created = await services.records.createMany(owned, principalScope(principal));
      const dtos = created.map(toRecordDto);
      if (many) return c.json({ items: dtos }, 201);
      return c.json(dtos[0] as (typeof dtos)[number], 201);
    })
    .openapi(listRecords, async (c) => {
      const query = c.req.valid('query');
      const { userId, ...filter } = query;
      const page = await services.records.list(principalScope(c.get('principal'), userId), {
        ...filter,
        ...(query.withoutFile === undefined ? {} : { withoutFile: query.withoutFile }),
      });
      return c.json(
        { items: page.items.map(toRecordDto), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) },
        200,
      );
    })
    .openapi(getRecord, async (c) => {
      const { uid } = c.req.valid('param');
      return c.json(toRecordDto(await services.records.get(uid, principalScope(c.get('principal')))), 200);
    })
    .openapi(deleteRecord, async (c) => {
      const { uid } = c.req.valid('param');
      const scope = principalScope(c.get('principal'));
      const { record, objectDeleted } = await deleteRecordWithFile(services.database.db, services.store, uid, scope);
      return c.json({ ...toRecordDto(record), objectDeleted }, 200);
    })
    .openapi(generateRecord, async (c) => {
      const { uid } = c.req.valid('param');
      // The body is optional; when absent the validator does not run and there is nothing to read.
      const options = (c.req.valid('json') as z.infer<typeof GenerateRecordBody> | undefined) ?? {};
      const principal = c.get('principal');
      const scope = principalScope(principal);
      // Synthesis, validation and storing cost what an upload costs: they count against the same per-key limit.
      const release = services.uploads.acquire(principal.keyId);
      let result: Awaited<ReturnType<ReturnType<Services['generator']>['generate']>>;
      try {
        // Synthesis can take longer than the idle timeout with nothing on the wire.
        c.env?.keepOpen?.();
        result = await services.generator(scope).generate(uid, {
          ...(options.fileSizeKb === undefined ? {} : { fileSizeKb: options.fileSizeKb }),
          ...(options.force === undefined ? {} : { force: options.force }),
          signal: c.req.raw.signal,
        });
      } finally {
        release();
      }
      const record = await services.records.get(uid, scope);
      return c.json({ record: toRecordDto(record), outcome: result.outcome }, 200);
    });
}
