/** Request and response shapes of direct uploads (upload URLs, token PUTs, completion) and thumbnails. */
import { z } from '@hono/zod-openapi';
import type { DirectUploadTicket, Logger, RecordUploadResult, ThumbnailOutcome } from '@mediaforge/core';
import { type ThumbnailOutcomeSchema, toRecordDto } from './schemas.ts';

export const UploadUrlBody = z
  .object({
    size: z.number().int().positive().optional().openapi({
      description: 'File size in bytes: required on S3 (the URL is signed for it), a tighter cap otherwise',
    }),
    contentType: z.string().max(200).optional(),
  })
  .openapi('UploadUrlRequest');

export const UploadTicketSchema = z
  .object({
    uploadId: z.uuid(),
    method: z.literal('PUT'),
    url: z.string().openapi({ description: 'A presigned URL (S3), or a path on this API carrying a one-time token' }),
    headers: z.record(z.string(), z.string()),
    kind: z.enum(['presigned', 'token']),
    expiresAt: z.iso.datetime(),
    maxSize: z.number().int(),
  })
  .openapi('UploadTicket');

export const CompleteUploadBody = z
  .object({
    uploadId: z.uuid(),
    replace: z.boolean().optional(),
    compress: z.boolean().optional(),
    quality: z.number().int().min(1).max(100).optional(),
    fileName: z.string().max(255).optional(),
  })
  .openapi('CompleteUploadRequest');

export const TokenParam = z.object({
  token: z
    .string()
    .max(200)
    .openapi({ param: { name: 'token', in: 'path' }, description: 'The token part of an upload URL' }),
});

export const UploadIdParam = z.object({
  uploadId: z
    .string()
    .max(200)
    .openapi({ param: { name: 'uploadId', in: 'path' }, description: 'The `uploadId` of an upload ticket' }),
});

export const TokenUploadResultSchema = z
  .object({ uploadId: z.uuid(), size: z.number().int() })
  .openapi('TokenUploadResult');

export function toTicketDto(ticket: DirectUploadTicket): z.infer<typeof UploadTicketSchema> {
  return { ...ticket, expiresAt: ticket.expiresAt.toISOString() };
}

/**
 * What became of the upload's thumbnail. A failure's own message (a decoder's, ffmpeg's) stays in the server's log:
 * it may name temporary paths; the caller learns that it failed and that the file is stored.
 */
export function thumbnailDto(outcome: ThumbnailOutcome): z.infer<typeof ThumbnailOutcomeSchema> {
  if (outcome.status === 'stored') {
    return { status: 'stored', width: outcome.width, height: outcome.height, size: outcome.size };
  }
  if (outcome.status === 'skipped') return { status: 'skipped', reason: outcome.reason };
  return { status: 'failed', reason: 'The thumbnail could not be made; the file is stored without one.' };
}

/** A failed thumbnail's own message goes to the log (the answer says only that it failed). */
export function logThumbnailFailure(logger: Logger | undefined, uid: string, result: RecordUploadResult): void {
  if (result.thumbnail?.status === 'failed') {
    logger?.warn({ uid, reason: result.thumbnail.reason }, 'thumbnail not made; the file is stored');
  }
}

/** The 201 body of every upload that stored a file (streamed, direct or resumable). */
export function uploadResultDto(result: RecordUploadResult) {
  return {
    record: toRecordDto(result.record),
    compressed: result.compressed,
    originalSize: result.originalSize,
    ...(result.duplicateOf ? { duplicateOf: result.duplicateOf } : {}),
    ...(result.thumbnail ? { thumbnail: thumbnailDto(result.thumbnail) } : {}),
  };
}
