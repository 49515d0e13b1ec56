/** `/v1/records/{uid}/file`: streamed uploads through the ingest pipeline, and downloads (redirect or Range stream). */
import { createRoute, z } from '@hono/zod-openapi';
import { emptyFileError, FileSizeExceededError, storeUpload } from '@mediaforge/core';
import type { ByteRange } from '@mediaforge/storage';
import { principalScope } from '../auth.ts';
import { releasedWith } from '../concurrency.ts';
import { ifRangeAllows, noneMatchHits } from '../conditional.ts';
import { ApiError } from '../errors.ts';
import { multipartBoundary, readMultipartFile } from '../multipart.ts';
import { requestLogger } from '../request-logger.ts';
import { FileQuery, UidParam, UploadQuery, UploadResultSchema } from '../schemas.ts';
import type { Services } from '../services.ts';
import { logThumbnailFailure, uploadResultDto } from '../upload-schemas.ts';
import { bearer, errors, json, router } from './common.ts';
import { mergeFormFields } from './form-fields.ts';
import { uploadFilters } from './upload-filters.ts';

const tags = ['Files'];
const PRESIGNED_SECONDS = 900;
/** Room for multipart boundaries, part headers and small fields on top of the file itself. */
const MULTIPART_OVERHEAD = 128 * 1024;

const uploadFile = createRoute({
  method: 'post',
  path: '/records/{uid}/file',
  tags,
  security: bearer,
  summary: "Upload the record's file (streamed): detected, validated, compressed, deduplicated, stored",
  description:
    'Send the file as the raw body (any Content-Type; the content decides) or as multipart/form-data with a ' +
    '`file` part. Options come from the query string or, for multipart, from text fields before the file (given both ways, they must agree: 400 otherwise). ' +
    '`allowedTypes` and `maxSizeMb` narrow what this upload accepts; a refused file leaves the record as it was. ' +
    'The size limit (MAX_FILE_SIZE_MB) is enforced while the body streams in.',
  request: {
    params: UidParam,
    query: UploadQuery,
    body: {
      required: true,
      content: {
        'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
        'multipart/form-data': {
          schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } }, required: ['file'] },
        },
      },
    },
  },
  responses: {
    201: json(UploadResultSchema, 'Stored; the record now has its file'),
    ...errors(400, 403, 404, 409, 413, 415, 422),
  },
});

const downloadFile = createRoute({
  method: 'get',
  path: '/records/{uid}/file',
  tags,
  security: bearer,
  summary: "The record's file: a redirect to a presigned URL, or the bytes (Range supported)",
  request: { params: UidParam, query: FileQuery },
  responses: {
    200: { description: 'The file', content: { 'application/octet-stream': { schema: z.string() } } },
    206: { description: 'Part of the file (Range)', content: { 'application/octet-stream': { schema: z.string() } } },
    302: { description: 'Redirect to a presigned URL' },
    304: { description: 'Not modified: `If-None-Match` names the ETag (the sha256)' },
    ...errors(400, 404, 416),
  },
});

export function recordFileRoutes(services: Services) {
  return router()
    .openapi(uploadFile, async (c) => {
      const { uid } = c.req.valid('param');
      const principal = c.get('principal');
      let filters = uploadFilters(services, c.req.valid('query'));
      const { maxSize } = filters;
      const contentType = c.req.header('content-type') ?? '';
      const boundary = multipartBoundary(contentType);
      const declaredLength = Number(c.req.header('content-length') ?? Number.NaN);
      if (Number.isFinite(declaredLength) && declaredLength > maxSize + (boundary ? MULTIPART_OVERHEAD : 0)) {
        throw new FileSizeExceededError(maxSize, declaredLength, 'Upload');
      }
      const raw = c.req.raw.body;
      if (!raw) throw emptyFileError();
      let query = c.req.valid('query');
      let body: ReadableStream<Uint8Array> = raw;
      let declaredType = contentType && !/^application\/octet-stream\b/i.test(contentType) ? contentType : undefined;
      let fileName = query.fileName;
      if (/^multipart\//i.test(contentType)) {
        if (!boundary) throw new ApiError(400, 'MALFORMED_MULTIPART', 'multipart/form-data needs a boundary.');
        const part = await readMultipartFile(raw, boundary);
        const fields = UploadQuery.safeParse(part.fields);
        if (!fields.success)
          throw new ApiError(400, 'VALIDATION_ERROR', `Invalid form fields: ${fields.error.message}`);
        query = mergeFormFields(fields.data, query);
        filters = uploadFilters(services, query);
        body = part.stream;
        declaredType = part.contentType;
        fileName = part.fileName ?? fileName;
      }
      const started = performance.now();
      const release = services.uploads.acquire(principal.keyId);
      // From here the body guard bounds gaps in the body, and nothing bounds the processing after it.
      c.env?.keepOpen?.();
      try {
        const result = await storeUpload(uid, body, {
          // The request body, or a multipart part (copied out of it): each chunk is freed once written.
          ownsChunks: true,
          db: services.database.db,
          store: services.store,
          settings: services.settings,
          ...filters,
          scope: principalScope(principal),
          thumbnails: services.thumbnails,
          ...(query.replace === undefined ? {} : { replace: query.replace }),
          ...(query.compress === undefined ? {} : { compress: query.compress }),
          ...(query.quality === undefined ? {} : { quality: query.quality }),
          ...(declaredType ? { declaredType } : {}),
          ...(fileName ? { fileName } : {}),
          signal: c.req.raw.signal,
        });
        const metrics = c.get('metrics');
        metrics.uploads.inc({ outcome: result.duplicateOf ? 'duplicate' : 'stored' });
        metrics.uploadBytes.inc(result.originalSize);
        metrics.uploadDuration.observe((performance.now() - started) / 1000);
        requestLogger(c)?.info(
          { uid, size: result.originalSize, stored: result.record.fileSize, duplicateOf: result.duplicateOf },
          'upload stored',
        );
        logThumbnailFailure(requestLogger(c), uid, result);
        return c.json(uploadResultDto(result), 201);
      } catch (error) {
        c.get('metrics').uploads.inc({ outcome: 'rejected' });
        // Whatever the client still sends is not read: tell it the connection ends with this response.
        c.header('Connection', 'close');
        await raw.cancel().catch(() => {});
        throw error;
      } finally {
        release();
      }
    })
    .openapi(downloadFile, async (c) => {
      const { uid } = c.req.valid('param');
      const query = c.req.valid('query');
      const record = await services.records.get(uid, principalScope(c.get('principal')));
      if (!record.storageKey) {
        throw new ApiError(404, 'FILE_NOT_FOUND', `Record ${record.uid} has no file yet.`, { uid: record.uid });
      }
      const fileName = record.fileName ?? record.storageKey.split('/').pop() ?? record.uid;
      if (query.redirect !== false && services.store.driver !== 'file' && !query.download) {
        return c.redirect(await services.store.url(record.storageKey, { expiresIn: PRESIGNED_SECONDS }), 302);
      }
      const etag = record.sha256 ? `"${record.sha256}"` : undefined;
      const cacheControl = 'private, max-age=300';
      if (etag && noneMatchHits(c.req.header('if-none-match'), etag)) {
        return c.body(null, 304, { ETag: etag, 'Cache-Control': cacheControl });
      }
      const size = record.fileSize ?? (await services.store.head(record.storageKey))?.size ?? 0;
      let range: ByteRange | undefined;
      try {
        range = ifRangeAllows(c.req.header('if-range'), etag) ? parseRange(c.req.header('range'), size) : undefined;
      } catch (error) {
        c.header('Content-Range', `bytes */${size}`);
        throw error;
      }
      const release = services.downloads.acquire(c.get('principal').keyId);
      const object = await services.store.get(record.storageKey, range ? { range } : {}).catch((error: unknown) => {
        release();
        throw error;
      });
      if (!object) {
        release();
        throw new ApiError(404, 'FILE_NOT_FOUND', `The object of record ${record.uid} is missing from storage.`, {
          uid: record.uid,
          storageKey: record.storageKey,
        });
      }
      const headers: Record<string, string> = {
        'Content-Type': record.contentType ?? object.info.contentType,
        'Content-Length': String(object.length),
        'Accept-Ranges': 'bytes',
        'Cache-Control': cacheControl,
        'Content-Disposition': `${query.download ? 'attachment' : 'inline'}; filename="${fileName.replace(/["\\\r\n]/g, '_')}"`,
        'X-Content-Type-Options': 'nosniff',
      };
      if (etag) headers.ETag = etag;
      if (range) {
        const end = range.end ?? size - 1;
        headers['Content-Range'] = `bytes ${range.start}-${end}/${size}`;
        return c.body(releasedWith(object.body, release), 206, headers);
      }
      return c.body(releasedWith(object.body, release), 200, headers);
    });
}

/**
 * A single `bytes=` range against `size`; `undefined` means the whole file. As RFC 9110 allows, a Range in another
 * unit, with several ranges, or that does not parse is ignored (a 200 with the whole body).
 * @throws ApiError 416 for a well-formed range that lies outside the file
 */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/i.exec(header.trim());
  const unsatisfiable = () =>
    new ApiError(416, 'RANGE_NOT_SATISFIABLE', `Range ${header} is not satisfiable for ${size} bytes.`, { size });
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) throw unsatisfiable();
  return { start, end };
}
