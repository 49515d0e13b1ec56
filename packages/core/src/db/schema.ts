/** The database schema (drizzle), shared by PGlite and PostgreSQL. */
import { sql } from 'drizzle-orm';
import { bigint, index, jsonb, pgEnum, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { timestampMs } from './columns.ts';

export const MEDIA_TYPES = ['text', 'audio', 'video', 'image'] as const;
export const RECORD_STATUSES = ['pending', 'processing', 'uploaded', 'failed'] as const;
export const RECORD_SOURCES = ['generated', 'url', 'upload'] as const;

export type MediaType = (typeof MEDIA_TYPES)[number];
export type RecordStatus = (typeof RECORD_STATUSES)[number];
export type RecordSource = (typeof RECORD_SOURCES)[number];

export const mediaTypeEnum = pgEnum('media_type', MEDIA_TYPES);
export const recordStatusEnum = pgEnum('record_status', RECORD_STATUSES);
export const recordSourceEnum = pgEnum('record_source', RECORD_SOURCES);

export const records = pgTable(
  'records',
  {
    uid: uuid('uid').primaryKey(),
    mediaType: mediaTypeEnum('media_type').notNull(),
    title: text('title'),
    language: text('language'),
    status: recordStatusEnum('status').notNull().default('pending'),
    fileUrl: text('file_url'),
    fileName: text('file_name'),
    fileSize: bigint('file_size', { mode: 'number' }),
    contentType: text('content_type'),
    sha256: text('sha256'),
    storageKey: text('storage_key'),
    source: recordSourceEnum('source'),
    sourceUrl: text('source_url'),
    userId: text('user_id'),
    generationId: text('generation_id'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    error: text('error'),
    createdAt: timestampMs('created_at').notNull().defaultNow(),
    updatedAt: timestampMs('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('records_created_idx').on(t.createdAt, t.uid),
    index('records_status_created_idx').on(t.status, t.createdAt, t.uid),
    index('records_media_type_created_idx').on(t.mediaType, t.createdAt, t.uid),
    index('records_user_created_idx').on(t.userId, t.createdAt, t.uid),
    index('records_generation_idx').on(t.generationId),
    index('records_sha256_idx').on(t.userId, t.sha256),
    index('records_without_file_idx').on(t.createdAt, t.uid).where(sql`${t.storageKey} is null`),
  ],
);

export type RecordRow = typeof records.$inferSelect;
export type NewRecordRow = typeof records.$inferInsert;
export * from './auth-schema.ts';
export * from './queue-schema.ts';
