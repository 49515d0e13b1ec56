/** The record as callers see it, and the inputs that create and change one. */
import { z } from 'zod';
import { MEDIA_TYPES, type RECORD_STATUSES, type RecordRow } from '../db/schema.ts';
import type { MediaRangeFilter } from './media-filter.ts';

export type MediaRecord = RecordRow;

/**
 * A record's own metadata is at most 16 KiB of JSON: it is returned with every record, so a page of 1,000 stays
 * within 16 MiB (at 1 MB each, one listing once took 1.5 GB of server memory). Larger data belongs in a file.
 */
export const METADATA_MAX_BYTES = 16 * 1024;

/**
 * Own fields as JSON keeps them: at most METADATA_MAX_BYTES, no number JSON cannot hold (`1e400` parses to
 * Infinity, which would be stored as null), and no text that is not valid Unicode (a lone surrogate, which jsonb
 * refuses).
 */
const metadataSchema = z.record(z.string(), z.unknown()).superRefine((metadata, ctx) => {
  let nonFinite: string | undefined;
  let illFormed = false;
  const text = JSON.stringify(metadata, (key, value) => {
    if (typeof value === 'number' && !Number.isFinite(value)) nonFinite ??= key;
    if (!key.isWellFormed() || (typeof value === 'string' && !value.isWellFormed())) illFormed = true;
    return value;
  });
  if (illFormed) {
    ctx.addIssue({ code: 'custom', message: 'metadata text must be valid Unicode (a lone surrogate is not)' });
  }
  if (nonFinite !== undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `metadata field "${nonFinite.slice(0, 100)}" is not a finite number (JSON numbers must fit a double)`,
    });
  }
  if (Buffer.byteLength(text ?? '') > METADATA_MAX_BYTES) {
    ctx.addIssue({ code: 'custom', message: `metadata is limited to ${METADATA_MAX_BYTES} bytes of JSON` });
  }
});

export const newRecordSchema = z.object({
  uid: z.string().optional(),
  mediaType: z.enum(MEDIA_TYPES),
  title: z.string().max(500).optional(),
  language: z.string().max(35).optional(),
  userId: z.string().max(200).optional(),
  generationId: z.string().max(200).optional(),
  metadata: metadataSchema.optional(),
});

export type NewRecord = z.input<typeof newRecordSchema>;

export interface RecordFilter extends MediaRangeFilter {
  status?: (typeof RECORD_STATUSES)[number];
  mediaType?: (typeof MEDIA_TYPES)[number];
  userId?: string;
  generationId?: string;
  /** Only records that have no stored file yet. */
  withoutFile?: boolean;
}

export interface ListRecordsOptions extends RecordFilter {
  /** 1–1000, default 50; a page holds fewer when it would pass RECORD_PAGE_BYTES of JSON (record-page.ts). */
  limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string;
}

export interface RecordPage {
  items: MediaRecord[];
  /** Present when more records follow, whether the page ended at its limit or at its byte budget. */
  nextCursor?: string;
}
