/** `GET /v1/records/{uid}/thumbnail`: the record's WebP thumbnail, owner-scoped like the record itself. */
import { createRoute, z } from '@hono/zod-openapi';
import { currentThumbnailKey } from '@mediaforge/core';
import { principalScope } from '../auth.ts';
import { releasedWith } from '../concurrency.ts';
import { noneMatchHits } from '../conditional.ts';
import { ApiError } from '../errors.ts';
import { UidParam } from '../schemas.ts';
import type { Services } from '../services.ts';
import { bearer, errors, router } from './common.ts';

const thumbnail = createRoute({
  method: 'get',
  path: '/records/{uid}/thumbnail',
  tags: ['Files'],
  security: bearer,
  summary: "The record's thumbnail (WebP, at most 256 px), made for images and videos when THUMBNAILS is on",
  request: { params: UidParam },
  responses: {
    200: { description: 'The thumbnail', content: { 'image/webp': { schema: z.string() } } },
    304: { description: 'Not modified: `If-None-Match` names the ETag' },
    ...errors(404),
  },
});

export function thumbnailRoutes(services: Services) {
  return router().openapi(thumbnail, async (c) => {
    const { uid } = c.req.valid('param');
    const record = await services.records.get(uid, principalScope(c.get('principal')));
    const key = currentThumbnailKey(record);
    const etag = record.sha256 ? `"thumb-${record.sha256}"` : undefined;
    if (key && etag && noneMatchHits(c.req.header('if-none-match'), etag)) {
      return c.body(null, 304, { ETag: etag, 'Cache-Control': 'private, max-age=300' });
    }
    const release = services.downloads.acquire(c.get('principal').keyId);
    const object = key
      ? await services.store.get(key).catch((error: unknown) => {
          release();
          throw error;
        })
      : null;
    if (!object) {
      release();
      throw new ApiError(404, 'FILE_NOT_FOUND', `Record ${record.uid} has no thumbnail.`, { uid: record.uid });
    }
    return c.body(releasedWith(object.body, release), 200, {
      'Content-Type': 'image/webp',
      'Content-Length': String(object.length),
      'Cache-Control': 'private, max-age=300',
      'X-Content-Type-Options': 'nosniff',
      ...(etag ? { ETag: etag } : {}),
    });
  });
}
