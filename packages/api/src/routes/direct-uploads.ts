/**
 * Direct uploads: `POST /v1/records/{uid}/upload-url` hands out a presigned PUT (S3) or a one-time upload token
 * (other stores, received by `PUT /v1/direct-uploads/{token}` with the size bound enforced as bytes arrive),
 * `POST /v1/records/{uid}/file/complete` runs the staged bytes through the file pipeline, and
 * `DELETE /v1/direct-uploads/{uploadId}` cancels one. Ownership, state and single use are checked in the core.
 */
import { createRoute } from '@hono/zod-openapi';
import {
  cancelDirectUpload,
  completeDirectUpload,
  emptyFileError,
  issueDirectUpload,
  receiveTokenUpload,
  sweepDirectUploads,
} from '@mediaforge/core';
import { principalScope } from '../auth.ts';
import { ApiError } from '../errors.ts';
import { requestLogger } from '../request-logger.ts';
import { UidParam, UploadResultSchema } from '../schemas.ts';
import type { Services } from '../services.ts';
import {
  CompleteUploadBody,
  logThumbnailFailure,
  TokenParam,
  TokenUploadResultSchema,
  toTicketDto,
  UploadIdParam,
  UploadTicketSchema,
  UploadUrlBody,
  uploadResultDto,
} from '../upload-schemas.ts';
import { bearer, errors, json, router } from './common.ts';

const tags = ['Files'];

const uploadUrl = createRoute({
  method: 'post',
  path: '/records/{uid}/upload-url',
  tags,
  security: bearer,
  summary: 'A URL to upload the file to directly (presigned PUT on S3, a one-time token otherwise)',
  description:
    'PUT the file to `url` with `headers` before `expiresAt`, then call `/records/{uid}/file/complete`. The bytes ' +
    'land at a staging key; nothing about the record changes until completion verifies them. Refused with 429 ' +
    '`UPLOAD_LIMIT` while the owner holds TUS_MAX_UPLOADS_PER_USER open uploads (direct and resumable together, ' +
    'counted until their staged bytes are removed; the owner’s own expired ones are removed first when it is safe).',
  request: { params: UidParam, body: { required: false, content: { 'application/json': { schema: UploadUrlBody } } } },
  responses: { 201: json(UploadTicketSchema, 'Where and how to upload'), ...errors(400, 404, 413, 429) },
});

const tokenPut = createRoute({
  method: 'put',
  path: '/direct-uploads/{token}',
  tags,
  security: bearer,
  summary: 'Receive a direct upload with a one-time token (stores that cannot presign)',
  description: 'The token is used once; the body is refused as soon as it passes the size bound.',
  request: {
    params: TokenParam,
    body: { required: true, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
  },
  responses: { 200: json(TokenUploadResultSchema, 'Staged; now complete the upload'), ...errors(404, 409, 413) },
});

const complete = createRoute({
  method: 'post',
  path: '/records/{uid}/file/complete',
  tags,
  security: bearer,
  summary: 'Verify a directly uploaded file and make it the record’s file',
  description:
    'Detects, validates, hashes, deduplicates and stores the staged bytes under a write-once key. The staged ' +
    'object is deleted either way; a file that fails verification leaves the record as it was.',
  request: {
    params: UidParam,
    body: { required: true, content: { 'application/json': { schema: CompleteUploadBody } } },
  },
  responses: { 201: json(UploadResultSchema, 'Stored'), ...errors(400, 404, 409, 413, 415, 422) },
});

const cancel = createRoute({
  method: 'delete',
  path: '/direct-uploads/{uploadId}',
  tags,
  security: bearer,
  summary: 'Cancel a direct upload: its staged bytes are removed and it can no longer be PUT to or completed',
  description:
    'A one-time-token upload stops counting toward TUS_MAX_UPLOADS_PER_USER at once; a presigned one once its URL ' +
    'has expired (S3 cannot revoke the URL, so a PUT could put bytes back until then). Refused with 409 ' +
    '`UPLOAD_USED` once completion has begun. Someone else’s upload is 404 like a missing one.',
  request: { params: UploadIdParam },
  responses: { 204: { description: 'Cancelled' }, ...errors(404, 409) },
});

/** Staged bytes are swept at most this often, on the next upload-url request. */
const SWEEP_EVERY_MS = 60_000;

export function directUploadRoutes(services: Services) {
  const { settings } = services;
  let lastSweep = 0;
  return router()
    .openapi(uploadUrl, async (c) => {
      if (Date.now() - lastSweep > SWEEP_EVERY_MS) {
        lastSweep = Date.now();
        // Uploads never completed: their bytes go one expiry period after the URL expired.
        const graceMs = settings.uploads.urlExpirySeconds * 1000;
        const stuckAfterMs = settings.taskTimeoutMinutes * 60_000;
        void sweepDirectUploads(services.database.db, services.store, graceMs, stuckAfterMs).catch(() => {});
      }
      const { uid } = c.req.valid('param');
      const body = c.req.valid('json') ?? {};
      const ticket = await issueDirectUpload(services.database.db, services.store, uid, {
        scope: principalScope(c.get('principal')),
        maxFileSizeBytes: settings.maxFileSizeBytes,
        expiresInSeconds: settings.uploads.urlExpirySeconds,
        openUploads: services.openUploads,
        ...(body.size === undefined ? {} : { size: body.size }),
        ...(body.contentType ? { contentType: body.contentType } : {}),
      });
      return c.json(toTicketDto(ticket), 201);
    })
    .openapi(tokenPut, async (c) => {
      const { token } = c.req.valid('param');
      const raw = c.req.raw.body;
      if (!raw) throw emptyFileError();
      const principal = c.get('principal');
      const declared = Number(c.req.header('content-length') ?? Number.NaN);
      const release = services.uploads.acquire(principal.keyId);
      c.env?.keepOpen?.();
      try {
        const result = await receiveTokenUpload(services.database.db, services.store, token, raw, {
          scope: principalScope(principal),
          ...(Number.isFinite(declared) ? { declaredLength: declared } : {}),
          signal: c.req.raw.signal,
        });
        return c.json(result, 200);
      } catch (error) {
        c.header('Connection', 'close');
        await raw.cancel().catch(() => {});
        // The body guard ended the body (a stall, a trickle, past the ceiling): that is the answer, not the store's
        // failure to write the staging copy it was reading (a 502 STORAGE_ERROR logged as a storage fault).
        const bodyFailure = c.env?.bodyFailure?.();
        throw bodyFailure instanceof ApiError ? bodyFailure : error;
      } finally {
        release();
      }
    })
    .openapi(complete, async (c) => {
      const { uid } = c.req.valid('param');
      const body = c.req.valid('json');
      const principal = c.get('principal');
      const release = services.uploads.acquire(principal.keyId);
      c.env?.keepOpen?.();
      try {
        const result = await completeDirectUpload(uid, body.uploadId, {
          db: services.database.db,
          store: services.store,
          settings,
          scope: principalScope(principal),
          thumbnails: services.thumbnails,
          ...(body.replace === undefined ? {} : { replace: body.replace }),
          ...(body.compress === undefined ? {} : { compress: body.compress }),
          ...(body.quality === undefined ? {} : { quality: body.quality }),
          ...(body.fileName ? { fileName: body.fileName } : {}),
        });
        c.get('metrics').uploads.inc({ outcome: result.duplicateOf ? 'duplicate' : 'stored' });
        logThumbnailFailure(requestLogger(c), result.record.uid, result);
        return c.json(uploadResultDto(result), 201);
      } catch (error) {
        c.get('metrics').uploads.inc({ outcome: 'rejected' });
        throw error;
      } finally {
        release();
      }
    })
    .openapi(cancel, async (c) => {
      const { uploadId } = c.req.valid('param');
      await cancelDirectUpload(services.database.db, services.store, uploadId, principalScope(c.get('principal')));
      return c.body(null, 204);
    });
}
