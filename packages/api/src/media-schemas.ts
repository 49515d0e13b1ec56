/** The API's shapes for media metadata, per-request filters and generations (beside schemas.ts, which uses them). */
import { z } from '@hono/zod-openapi';
import { MAX_ALLOWED_TYPES, MAX_MEDIA_BOUND, MAX_REQUEST_HEADERS, RECORD_PAGE_BYTES } from '@mediaforge/core';
import { pageLimit } from './page-limit.ts';

const StreamSchema = z
  .object({
    kind: z.enum(['video', 'audio']),
    codec: z.string().openapi({ example: 'h264' }),
    width: z.number().int().optional(),
    height: z.number().int().optional(),
    frameRate: z.number().optional(),
    rotation: z.number().int().optional(),
    sampleRate: z.number().int().optional(),
    channels: z.number().int().optional(),
  })
  .openapi('MediaStream');

export const MediaInfoSchema = z
  .object({
    width: z.number().int().optional(),
    height: z.number().int().optional(),
    durationSeconds: z.number().optional(),
    codec: z.string().optional().openapi({ description: 'Codec or format tag(s) as stored, e.g. `avc1+mp4a`, `jpeg`' }),
    bitrate: z.number().int().optional().openapi({ description: 'Average bits per second over the whole file' }),
    sampleRate: z.number().int().optional(),
    channels: z.number().int().optional(),
    bitsPerSample: z.number().int().optional(),
    frameRate: z.number().optional().openapi({ description: 'Frames per second of the first video stream' }),
    rotation: z
      .number()
      .int()
      .optional()
      .openapi({ description: 'Display rotation of the first video stream in degrees, as ffprobe reports it' }),
    orientation: z.number().int().min(1).max(8).optional().openapi({ description: 'EXIF orientation of an image' }),
    frames: z.number().int().optional().openapi({ description: 'Frames of an animated image' }),
    tracks: z.object({ video: z.number().int(), audio: z.number().int() }).optional(),
    streams: z.array(StreamSchema).optional(),
    characters: z.number().int().optional(),
    lines: z.number().int().optional(),
  })
  .openapi('MediaInfo', { description: 'What validation read from the stored file; fields apply per media type' });

/** The media columns of a record. */
export const mediaRecordFields = {
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  durationSeconds: z.number().nullable(),
  mediaInfo: MediaInfoSchema.nullable(),
  originalName: z
    .string()
    .nullable()
    .openapi({ description: 'The name the source gave (URL path, Content-Disposition, multipart), sanitised' }),
};

/**
 * A range bound from the query string: plain decimal digits only (`Number()` would also read ` ` as 0 and `0x10` as
 * 16). An empty value (`?minWidth=`, as an empty form field sends it) means no bound. Pixel bounds are whole numbers:
 * `minWidth=1.5` is a 400 naming the parameter.
 */
const bound = (what: string, integer = false) =>
  z
    .preprocess((value) => {
      if (value === '') return undefined;
      if (typeof value !== 'string') return value;
      return (integer ? /^\d{1,16}$/ : /^\d{1,16}(\.\d{1,16})?$/).test(value) ? Number(value) : Number.NaN;
    }, (integer
      ? z.number({ error: 'expected a whole number in plain decimal digits (0 or more)' }).int()
      : z.number({ error: 'expected a number in plain decimal digits (0 or more)' })
    )
      .min(0)
      .max(MAX_MEDIA_BOUND)
      .optional())
    .openapi({ description: what, type: integer ? 'integer' : 'number' });

/** `GET /v1/records` range filters; min above max is refused by the core (400 VALIDATION_ERROR). */
export const mediaRangeQuery = {
  minDuration: bound('Only records at least this many seconds long'),
  maxDuration: bound('Only records at most this many seconds long'),
  minWidth: bound('Only records at least this many pixels wide', true),
  maxWidth: bound('Only records at most this many pixels wide', true),
  minHeight: bound('Only records at least this many pixels high', true),
  maxHeight: bound('Only records at most this many pixels high', true),
};

const allowedTypesDescription =
  'Only store files of these types: media types (`image`), MIME types (`image/png`) or `kind/*`; ' +
  'others are refused with 415 FILE_TYPE_NOT_ALLOWED and nothing is stored';

/** Upload query: comma-separated allowed types, and a size cap that may only lower the server's. */
export const uploadFilterQuery = {
  allowedTypes: z
    .string()
    .max(2000)
    .optional()
    .openapi({ description: `${allowedTypesDescription} (comma-separated)` }),
  maxSizeMb: z.coerce
    .number()
    .positive()
    .optional()
    .openapi({ description: 'Refuse files above this many MB; at most MAX_FILE_SIZE_MB (above it: 403)' }),
};

/** Ingest options: allowed types and request headers. */
export const ingestFilterOptions = {
  allowedTypes: z
    .array(z.string().max(100))
    .min(1)
    .max(MAX_ALLOWED_TYPES)
    .optional()
    .openapi({ description: allowedTypesDescription }),
  headers: z
    .record(z.string().max(64), z.string().max(4096))
    .optional()
    .openapi({
      description:
        `Up to ${MAX_REQUEST_HEADERS} request headers for the downloads (e.g. authorization), sent only to each ` +
        "URL's own origin, never after a redirect elsewhere, never logged, stored only encrypted (needs " +
        'INGEST_HEADERS_KEY). Hop-by-hop, Host, forwarding, framing and Range headers are refused (400 INVALID_HEADERS).',
      example: { authorization: 'Bearer …' },
    }),
};

export const GenerationIdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: 'id', in: 'path' } }),
});

/** A record listing's `limit`: its byte budget (core's record-page.ts) can end a page sooner. */
export const recordPageLimit = (byDefault: number) =>
  pageLimit(
    `At most this many records (1–1000, default ${byDefault}), fewer when the page would pass ` +
      `${RECORD_PAGE_BYTES / 1024 / 1024} MiB of JSON: page on while nextCursor is set, not until a page is short`,
  );

/** A record page's `nextCursor`. */
export const nextRecordsCursor = z.string().optional().openapi({
  description: 'Present when more records follow: pass it back as `cursor` for the next page',
});

export const GenerationQuery = z.object({
  limit: recordPageLimit(200),
  cursor: z.string().max(500).optional().openapi({ description: "A previous answer's nextCursor" }),
});
