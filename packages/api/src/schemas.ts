/** The API's request and response shapes: one set of zod schemas validates requests and writes /openapi.json. */

import { z } from '@hono/zod-openapi';
import {
  currentThumbnailKey,
  MAX_URL_LENGTH,
  MEDIA_TYPES,
  METADATA_MAX_BYTES,
  type MediaRecord,
  publicSourceUrl,
  RECORD_SOURCES,
  RECORD_STATUSES,
  TASK_KINDS,
  TASK_STATUSES,
  type TaskStatusView,
  type WorkerInfo,
} from '@mediaforge/core';
import {
  ingestFilterOptions,
  mediaRangeQuery,
  mediaRecordFields,
  nextRecordsCursor,
  recordPageLimit,
  uploadFilterQuery,
} from './media-schemas.ts';
import { WebhookField } from './webhook-schemas.ts';

const uuid = z.uuid().openapi({ example: '2f1c6b1e-8a53-4c41-9a8e-0d1f0b6f8a10' });
const isoDate = z.iso.datetime().openapi({ example: '2026-11-21T10:00:00.000Z' });
const booleanQuery = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1')
  .optional();

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'RECORD_NOT_FOUND' }),
      message: z.string(),
      details: z.record(z.string(), z.unknown()),
      requestId: z.string().optional(),
    }),
  })
  .openapi('Error');

export const UidParam = z.object({ uid: uuid.openapi({ param: { name: 'uid', in: 'path' } }) });
export const TaskIdParam = z.object({ id: uuid.openapi({ param: { name: 'id', in: 'path' } }) });

export const RecordSchema = z
  .object({
    uid: uuid,
    mediaType: z.enum(MEDIA_TYPES),
    title: z.string().nullable(),
    language: z.string().nullable(),
    status: z.enum(RECORD_STATUSES),
    fileUrl: z.string().nullable().openapi({ description: "A public or presigned URL, or this API's file route" }),
    fileName: z.string().nullable(),
    fileSize: z.number().int().nullable(),
    contentType: z.string().nullable(),
    sha256: z.string().nullable(),
    storageKey: z.string().nullable(),
    source: z.enum(RECORD_SOURCES).nullable(),
    sourceUrl: z.string().nullable(),
    userId: z.string().nullable(),
    generationId: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    ...mediaRecordFields,
    thumbnailUrl: z.string().nullable().openapi({ description: "This API's thumbnail route, when there is one" }),
    error: z.string().nullable(),
    createdAt: isoDate,
    updatedAt: isoDate,
  })
  .openapi('Record');

export type RecordDto = z.infer<typeof RecordSchema>;

/**
 * A record as the API shows it: a `file_url` a client can open — a public URL as stored, while a local-disk `file:`
 * path or a private bucket's `s3://` reference becomes the record's file route (which streams or redirects to a
 * presigned URL) — and never a source URL's credentials, query or fragment (signed-URL tokens), nor the claim token.
 */
export function toRecordDto(record: MediaRecord): RecordDto {
  // The claim token guards a file write in progress; it is the writer's secret, never shown.
  const { claimToken: _claim, thumbnailKey: _thumbnail, ...shown } = record;
  return {
    ...shown,
    // Only a thumbnail the route serves: one of the record's current file.
    thumbnailUrl: currentThumbnailKey(record) ? `/v1/records/${record.uid}/thumbnail` : null,
    fileUrl: record.fileUrl && !/^https?:/.test(record.fileUrl) ? `/v1/records/${record.uid}/file` : record.fileUrl,
    sourceUrl: record.sourceUrl === null ? null : (publicSourceUrl(record.sourceUrl) ?? null),
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
  };
}

export const NewRecordSchema = z
  .object({
    uid: uuid.optional().openapi({ description: 'Default: a new UUID v4' }),
    mediaType: z.enum(MEDIA_TYPES),
    title: z.string().max(500).optional(),
    language: z.string().max(35).optional(),
    userId: z.string().max(200).optional().openapi({ description: "Admin keys only; default: the key's user" }),
    generationId: z.string().max(200).optional(),
    metadata: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: `Your own fields; at most ${METADATA_MAX_BYTES} bytes of JSON` }),
  })
  .openapi('NewRecord');

export const CreateRecordsSchema = z
  .union([NewRecordSchema, z.object({ records: z.array(NewRecordSchema).min(1) })])
  .openapi('CreateRecords', { description: 'One record, or `{ records: [...] }` for many (all or none)' });

export const RecordPageSchema = z
  .object({ items: z.array(RecordSchema), nextCursor: nextRecordsCursor })
  .openapi('RecordPage');

export const ListRecordsQuery = z.object({
  status: z.enum(RECORD_STATUSES).optional(),
  mediaType: z.enum(MEDIA_TYPES).optional(),
  userId: z.string().max(200).optional(),
  generationId: z.string().max(200).optional(),
  withoutFile: booleanQuery,
  ...mediaRangeQuery,
  limit: recordPageLimit(50),
  cursor: z.string().max(500).optional(),
});

export const UploadQuery = z.object({
  replace: booleanQuery.openapi({ description: 'Replace a file the record already has' }),
  compress: booleanQuery.openapi({ description: 'Recompress images (default true)' }),
  quality: z.coerce.number().int().min(1).max(100).optional(),
  fileName: z.string().max(1024).optional().openapi({ description: 'Original file name (raw bodies)' }),
  ...uploadFilterQuery,
});

export const ThumbnailOutcomeSchema = z
  .object({
    status: z.enum(['stored', 'skipped', 'failed']),
    width: z.number().int().optional(),
    height: z.number().int().optional(),
    size: z.number().int().optional(),
    reason: z.string().optional().openapi({
      description:
        'Why there is none: the rule that skipped it, or that making it failed (the file is stored either way)',
    }),
  })
  .openapi('ThumbnailOutcome');

export const UploadResultSchema = z
  .object({
    record: RecordSchema,
    compressed: z.boolean(),
    originalSize: z.number().int(),
    duplicateOf: uuid.optional(),
    thumbnail: ThumbnailOutcomeSchema.optional().openapi({
      description: 'What became of the thumbnail, when the server makes them (THUMBNAILS)',
    }),
  })
  .openapi('UploadResult');

export const FileQuery = z.object({
  redirect: booleanQuery.openapi({
    description: 'Redirect to a presigned URL where the storage has them (default true); false streams through the API',
  }),
  download: booleanQuery.openapi({ description: 'Content-Disposition: attachment' }),
});

export const GenerateRecordBody = z
  .object({
    fileSizeKb: z.number().positive().max(102_400).optional().openapi({ description: 'Default 15' }),
    force: z.boolean().optional().openapi({ description: 'Regenerate a record that already has a file' }),
  })
  .openapi('GenerateRecord');

export const GenerateRecordResult = z
  .object({
    record: RecordSchema,
    outcome: z.enum(['uploaded', 'recovered', 'skipped']),
  })
  .openapi('GenerateRecordResult');

export const queueFields = {
  queue: z.string().max(64).optional(),
  priority: z.number().int().min(-1000).max(1000).optional(),
  maxAttempts: z.number().int().min(1).max(20).optional(),
  webhook: WebhookField.optional(),
  softTimeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(2_147_483)
    .optional()
    .openapi({ description: "Seconds before an item's work is told to stop (non-admin: at most the server's)" }),
  timeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(2_147_483)
    .optional()
    .openapi({ description: "Seconds before an item fails with TASK_TIMEOUT (non-admin: at most the server's)" }),
  maxConcurrent: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .openapi({ description: 'Items of this task running at once across all workers' }),
};

export const IngestBody = z
  .object({
    urls: z.array(z.string().min(1).max(MAX_URL_LENGTH)).min(1),
    userId: z.string().max(200).optional().openapi({ description: "Admin keys only; default: the key's user" }),
    generationId: z.string().max(200).optional(),
    options: z
      .object({
        quality: z.number().int().min(1).max(100).optional(),
        compress: z.boolean().optional(),
        maxSizeMb: z.number().positive().optional(),
        ...ingestFilterOptions,
      })
      .optional(),
    ...queueFields,
  })
  .openapi('IngestRequest');

export const GenerateBody = z
  .object({
    uids: z.array(uuid).min(1).optional(),
    auto: z.object({ limit: z.number().int().min(1).max(100_000).optional() }).optional(),
    fileSizeKb: z.number().positive().max(102_400).optional(),
    force: z.boolean().optional(),
    ...queueFields,
  })
  .refine((body) => (body.uids === undefined) !== (body.auto === undefined), {
    message: 'give exactly one of uids or auto',
  })
  .openapi('GenerateRequest');

export const QueuedSchema = z
  .object({ taskId: uuid, status: z.enum(TASK_STATUSES), location: z.string() })
  .openapi('Queued');

const counts = z.object({
  completed: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  cancelled: z.number().int(),
  total: z.number().int(),
  percent: z.number(),
});

export const TaskSchema = z
  .object({
    taskId: uuid,
    kind: z.enum(TASK_KINDS),
    status: z.enum(TASK_STATUSES),
    ready: z.boolean(),
    successful: z.boolean(),
    progress: counts,
    result: z
      .object({
        successfulFiles: z.number().int(),
        totalFiles: z.number().int(),
        processingTime: z.number(),
        processedFileIds: z.array(z.string()).optional().openapi({
          description:
            'The records the task made: in GET /v1/tasks/{taskId} and the events stream, not in lists (fetch the task for them)',
        }),
      })
      .nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    userId: z.string().nullable(),
    generationId: z.string().nullable(),
    createdAt: isoDate,
    startedAt: isoDate.nullable(),
    finishedAt: isoDate.nullable(),
  })
  .openapi('Task');

export type TaskDto = z.infer<typeof TaskSchema>;

export function toTaskDto(view: TaskStatusView): TaskDto {
  return {
    ...view,
    createdAt: view.createdAt.toISOString(),
    startedAt: view.startedAt?.toISOString() ?? null,
    finishedAt: view.finishedAt?.toISOString() ?? null,
  };
}

export const TaskListQuery = z.object({
  status: z.enum(TASK_STATUSES).optional(),
  kind: z.enum(TASK_KINDS).optional(),
  userId: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
  cursor: z.string().max(500).optional(),
});

export const TaskPageSchema = z
  .object({ items: z.array(TaskSchema), nextCursor: z.string().nullable() })
  .openapi('TaskPage');

export const WorkerSchema = z
  .object({
    id: z.string(),
    host: z.string(),
    pid: z.number().int(),
    queues: z.array(z.string()),
    concurrency: z.number().int(),
    active: z.number().int(),
    processed: z.number().int(),
    failed: z.number().int(),
    state: z.enum(['online', 'offline', 'stopped']),
    startedAt: isoDate,
    lastSeen: isoDate,
    stoppedAt: isoDate.nullable(),
    itemsPerMinute: z.number().openapi({ description: 'Finished items per minute since the worker started' }),
    activeItems: z.number().int().openapi({ description: 'Items this worker holds running now (from the items)' }),
  })
  .openapi('Worker');

export function toWorkerDto(worker: WorkerInfo & { activeItems: number }): z.infer<typeof WorkerSchema> {
  const end = worker.stoppedAt ?? worker.lastSeen;
  const minutes = Math.max((end.getTime() - worker.startedAt.getTime()) / 60_000, 1 / 60);
  return {
    ...worker,
    startedAt: worker.startedAt.toISOString(),
    lastSeen: worker.lastSeen.toISOString(),
    stoppedAt: worker.stoppedAt?.toISOString() ?? null,
    itemsPerMinute: Math.round((worker.processed / minutes) * 10) / 10,
  };
}

const ActiveItemsSchema = z
  .object({
    total: z.number().int(),
    byWorker: z.record(z.string(), z.number().int()),
    byTask: z.array(
      z.object({
        taskId: z.string(),
        kind: z.string(),
        queue: z.string(),
        userId: z.string().nullable(),
        running: z.number().int(),
        maxConcurrent: z.number().int().nullable(),
        byWorker: z.record(z.string(), z.number().int()),
      }),
    ),
  })
  .openapi('ActiveItems');

export const WorkersSchema = z
  .object({ workers: z.array(WorkerSchema), activeTasks: z.number().int(), activeItems: ActiveItemsSchema })
  .openapi('Workers');

const totals = z.object({ records: z.number().int(), files: z.number().int(), bytes: z.number().int() });

export const StatsSchema = z
  .object({
    records: z.number().int(),
    files: z.number().int(),
    bytes: z.number().int(),
    byMediaType: z.object({ text: totals, audio: totals, video: totals, image: totals }),
    duplicates: z.number().int(),
    duplicateBytesSaved: z.number().int(),
    activeTasks: z.number().int(),
  })
  .openapi('Stats');

export const SessionBody = z.object({ key: z.string().min(1).max(200) }).openapi('SessionRequest');
