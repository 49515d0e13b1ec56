/**
 * Resumable uploads: the TUS 1.0 protocol (core, creation, creation-defer-length, termination, expiration) on
 * `/v1/uploads`, served by `@tus/server` through its web-standard `handleWeb` under the API's key check. Creation
 * needs `recordUid` in Upload-Metadata (a record in the caller's scope) and is refused past the size cap (413) or
 * the per-user limit of open uploads (429, counted once the owner's own expired uploads are removed); every later
 * request is checked against the upload's owner in the core's `staged_uploads` table (someone else's upload looks
 * missing). The last PATCH runs the bytes through the one file pipeline into the record; the staged bytes are
 * removed whatever the outcome.
 */
import { createRoute, z } from '@hono/zod-openapi';
import {
  deleteStagedUpload,
  findTusUpload,
  insertStagedUploadWithin,
  moveStagedUpload,
  newUid,
  type Scope,
  staleStagedUploads,
  storeUpload,
  uploadNotFound,
  uploadUsed,
} from '@mediaforge/core';
import { Server } from '@tus/server';
import { EVENTS, type Upload } from '@tus/utils';
import type { Context } from 'hono';
import { principalScope } from '../auth.ts';
import type { ApiEnv } from '../env.ts';
import { errorResponse } from '../errors.ts';
import { bearer, errors, router } from '../routes/common.ts';
import type { Services } from '../services.ts';
import { logThumbnailFailure } from '../upload-schemas.ts';
import { inErrorShape, withoutCors } from './tus-headers.ts';

const BASE = '/v1/uploads';
const SWEEP_EVERY_MS = 60_000;

interface Pending {
  scope: Scope;
  /** The error a hook threw, answered in the API's one error shape instead of TUS's plain text. */
  error?: unknown;
  /** A finished upload whose staged bytes go once @tus/server has answered (it still reads them to answer). */
  finished?: string;
}

export function tusRoutes(services: Services) {
  const { settings } = services;
  const db = services.database.db;
  const datastore = services.tusStore;
  const requests = new WeakMap<Request, Pending>();
  const pending = (req: Request): Pending => {
    const found = requests.get(req);
    if (!found) throw new Error('TUS request without a caller');
    return found;
  };
  const fail = (req: Request, error: unknown): never => {
    pending(req).error = error;
    throw { status_code: 500, body: 'see error\n' };
  };
  let lastSweep = 0;
  const sweep = async () => {
    if (Date.now() - lastSweep < Math.min(SWEEP_EVERY_MS, settings.uploads.tusExpiryMs)) return;
    lastSweep = Date.now();
    await tus.cleanUpExpiredUploads().catch(() => 0);
    for (const row of await staleStagedUploads(db, 0, 'tus', settings.taskTimeoutMinutes * 60_000)) {
      await datastore.store.remove(row.stagingKey).catch(() => {});
      await deleteStagedUpload(db, row.id);
    }
  };

  const tus = new Server({
    path: BASE,
    datastore: datastore.store,
    maxSize: settings.maxFileSizeBytes,
    relativeLocation: true,
    // Only the origins API_CORS_ORIGINS names get Access-Control-Allow-Origin (@tus/server's default is `*`).
    allowedOrigins: (origin) => settings.api.corsOrigins.includes('*') || settings.api.corsOrigins.includes(origin),
    namingFunction: () => `${datastore.prefix}${newUid().replaceAll('-', '')}`,
    generateUrl: (_req, { path, id }) => `${path}/${id.slice(datastore.prefix.length)}`,
    getFileIdFromRequest: (req) => {
      const match = /\/v1\/uploads\/([0-9a-f]{32})$/.exec(new URL(req.url).pathname);
      return match ? `${datastore.prefix}${match[1]}` : undefined;
    },
    onIncomingRequest: async (req, id) => {
      // Creation names a new id; its checks are in onUploadCreate.
      if (req.method === 'POST') return;
      const row = await findTusUpload(db, id, pending(req).scope);
      if (!row) return fail(req, uploadNotFound(id.slice(-32)));
      // Termination and completion race for the row: whichever moves it out of `issued` first wins, so an upload is
      // never both terminated (204) and stored. A DELETE that loses is refused; a PATCH that loses finds no upload.
      if (req.method === 'DELETE' && !(await moveStagedUpload(db, row.id, ['issued'], 'failed'))) {
        fail(req, uploadUsed(id.slice(-32), row.state));
      }
    },
    // A PATCH whose upload was terminated under it (its staged file removed) is a missing upload, not a 500.
    onResponseError: (req, error) => {
      const caller = requests.get(req);
      if (caller && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        const id = /\/([0-9a-f]{32})$/.exec(new URL(req.url).pathname)?.[1] ?? '';
        caller.error ??= uploadNotFound(id);
      }
      return undefined;
    },
    onUploadCreate: async (req, upload) => {
      const caller = pending(req);
      void sweep().catch(() => {});
      const recordUid = upload.metadata?.recordUid ?? '';
      try {
        const record = await services.records.get(recordUid, caller.scope);
        await insertStagedUploadWithin(
          db,
          {
            id: newUid(),
            kind: 'tus',
            recordUid: record.uid,
            userId: record.userId,
            stagingKey: upload.id,
            maxSize: settings.maxFileSizeBytes,
            expiresAt: new Date(Date.now() + settings.uploads.tusExpiryMs),
          },
          services.openUploads,
        );
      } catch (error) {
        fail(req, error);
      }
      return {};
    },
    onUploadFinish: async (req, upload) => {
      const result = await finish(req, upload).catch((error: unknown) => fail(req, error));
      // A creation-with-upload that completes still answers 201 with its Location (TUS), a last PATCH 204.
      return { headers: { 'Mediaforge-Record-Uid': result } };
    },
  });
  tus.on(EVENTS.POST_TERMINATE, (req: Request, _res: Response, id: string) => {
    const scope = requests.get(req)?.scope;
    if (!scope) return;
    void findTusUpload(db, id, scope)
      .then((row) => (row ? deleteStagedUpload(db, row.id) : undefined))
      .catch(() => {});
  });

  async function finish(req: Request, upload: Upload): Promise<string> {
    const row = await findTusUpload(db, upload.id, pending(req).scope);
    if (!row || !(await moveStagedUpload(db, row.id, ['issued'], 'completing'))) throw uploadNotFound(upload.id);
    try {
      const body = await datastore.read(upload.id);
      const result = await storeUpload(row.recordUid, body, {
        // A file's stream: each chunk is freed once written.
        ownsChunks: true,
        db,
        store: services.store,
        settings,
        scope: pending(req).scope,
        maxSize: settings.maxFileSizeBytes,
        thumbnails: services.thumbnails,
        replace: upload.metadata?.replace === 'true',
        ...(upload.metadata?.filetype ? { declaredType: upload.metadata.filetype } : {}),
        // Cut by the core to MAX_ORIGINAL_NAME keeping its extension (cutting here would lose the extension).
        ...(upload.metadata?.filename ? { fileName: upload.metadata.filename } : {}),
      });
      await moveStagedUpload(db, row.id, ['completing'], 'done');
      // TUS answers no 201 body: a failed thumbnail's reason is only in the log.
      logThumbnailFailure(services.logger, result.record.uid, result);
      return result.record.uid;
    } catch (error) {
      await moveStagedUpload(db, row.id, ['completing'], 'failed');
      throw error;
    } finally {
      pending(req).finished = upload.id;
    }
  }

  const handle = async (c: Context<ApiEnv>) => {
    const principal = c.get('principal');
    const req = c.req.raw;
    requests.set(req, { scope: principalScope(principal) });
    // Bodies (PATCH, and a creation-with-upload POST) stream for as long as the client sends; the body guard still
    // ends a stalled one. Each takes one of the key's upload slots.
    const carriesBody =
      req.method === 'PATCH' ||
      (req.method === 'POST' && /^application\/offset\+octet-stream\b/i.test(req.headers.get('content-type') ?? ''));
    if (carriesBody) c.env?.keepOpen?.();
    const release = carriesBody ? services.uploads.acquire(principal.keyId) : () => {};
    try {
      const response = await tus.handleWeb(req);
      // @tus/server adds its own CORS headers (methods, headers, max-age); without API_CORS_ORIGINS there are none.
      if (settings.api.corsOrigins.length === 0) withoutCors(response.headers);
      // A body the guard ended (stalled: 408; too large: 413) is answered as such; @tus/server calls it a 400 abort.
      const error = requests.get(req)?.error ?? (response.status >= 400 ? c.env?.bodyFailure?.() : undefined);
      return error === undefined ? await inErrorShape(response, c.get('requestId')) : errorResponse(error, c);
    } finally {
      release();
      const finished = requests.get(req)?.finished;
      if (finished) await datastore.store.remove(finished).catch(() => {});
    }
  };

  const app = router();
  for (const route of tusDocs) app.openapi(route, handle as never);
  // Hono answers HEAD with the GET route; TUS has no GET (the bytes are served once they are a record's file).
  app.get('/uploads/:id', (c) => (c.req.raw.method === 'HEAD' ? handle(c) : c.notFound()));
  return app;
}

const tags = ['Resumable uploads (TUS)'];
const IdParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) });
const tusHeaders =
  'TUS 1.0 headers (Tus-Resumable, Upload-Length or Upload-Defer-Length, Upload-Offset, Upload-Metadata)';
const empty = (description: string) => ({ description });

/** The TUS routes as the OpenAPI document shows them (the protocol itself is @tus/server's). */
const tusDocs = [
  createRoute({
    method: 'options',
    path: '/uploads',
    tags,
    security: bearer,
    summary: 'TUS discovery: version, extensions, Tus-Max-Size',
    responses: { 204: empty('Capabilities') },
  }),
  createRoute({
    method: 'post',
    path: '/uploads',
    tags,
    security: bearer,
    summary: 'Create a resumable upload for a record (Upload-Metadata must carry recordUid)',
    description: `${tusHeaders}. Refused with 413 when Upload-Length is over MAX_FILE_SIZE_MB and 429 past TUS_MAX_UPLOADS_PER_USER; a creation-with-upload (a body of application/offset+octet-stream) takes one of the key's API_MAX_UPLOADS_PER_KEY streaming slots, 429 CONCURRENCY_LIMITED past them.`,
    responses: { 201: empty('Created; Location is the upload URL'), ...errors(404, 413, 429) },
  }),
  createRoute({
    method: 'head',
    path: '/uploads/{id}',
    tags,
    security: bearer,
    request: { params: IdParam },
    summary: 'The upload offset (where to resume)',
    responses: { 200: empty('Upload-Offset and Upload-Length'), ...errors(404) },
  }),
  createRoute({
    method: 'patch',
    path: '/uploads/{id}',
    tags,
    security: bearer,
    request: { params: IdParam },
    summary: 'Append bytes at Upload-Offset (application/offset+octet-stream); the last one stores the file',
    responses: { 204: empty('Appended (and stored, when complete)'), ...errors(404, 409, 413, 415, 422) },
  }),
  createRoute({
    method: 'delete',
    path: '/uploads/{id}',
    tags,
    security: bearer,
    request: { params: IdParam },
    summary: 'Terminate an unfinished upload and remove its bytes',
    description:
      'Refused with 409 UPLOAD_USED once the last PATCH has begun storing the file (the file is then stored).',
    responses: { 204: empty('Terminated'), ...errors(404, 409) },
  }),
];
