/** The record as callers see it, and the inputs that create and change one. */
import { z } from 'zod';
import { MEDIA_TYPES, type RECORD_STATUSES, type RecordRow } from '../db/schema.ts';
import type { MediaRangeFilter } from './media-filter.ts';

export type MediaRecord = RecordRow;

export const newRecordSchema = z.object({
  uid: z.string().optional(),
  mediaType: z.enum(MEDIA_TYPES),
  title: z.string().max(500).optional(),
  language: z.string().max(35).optional(),
  userId: z.string().max(200).optional(),
  generationId: z.string().max(200).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
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
  /** 1–1000, default 50. */
  limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string;
}

export interface RecordPage {
  items: MediaRecord[];
  /** Present when more records follow. */
  nextCursor?: string;
}
