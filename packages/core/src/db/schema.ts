/** The database schema (drizzle), shared by PGlite and PostgreSQL. */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  uuid,
} from 'drizzle-orm/pg-core';
import type { FormatInfo } from '../media/validate/media-info.ts';
import { timestampMs } from './columns.ts';

export const MEDIA_TYPES = ['text', 'audio', 'video', 'image'] as const;
export const RECORD_STATUSES = ['pending', 'processing', 'uploaded', 'failed'] as const;
export const RECORD_SOURCES = ['generated', 'url', 'upload'] as const;
/** `live` objects hold bytes; `deleting` ones are being removed from the store; `deleted` rows are tombstones that
 * keep their key from ever being written again. */
export const OBJECT_STATES = ['live', 'deleting', 'deleted'] as const;

export type MediaType = (typeof MEDIA_TYPES)[number];
export type RecordStatus = (typeof RECORD_STATUSES)[number];
export type RecordSource = (typeof RECORD_SOURCES)[number];
export type ObjectState = (typeof OBJECT_STATES)[number];

export const mediaTypeEnum = pgEnum('media_type', MEDIA_TYPES);
export const recordStatusEnum = pgEnum('record_status', RECORD_STATUSES);
export const recordSourceEnum = pgEnum('record_source', RECORD_SOURCES);
export const objectStateEnum = pgEnum('object_state', OBJECT_STATES);

/**
 * Every object ever written to the store, by key. A key is reserved here (primary key) before its bytes are written
 * and never leaves the table, so no key is written twice; records reference objects (`refs` counts them) and an
 * object goes when its last reference does.
 */
export const objects = pgTable(
  'objects',
  {
    key: text('key').primaryKey(),
    sha256: text('sha256').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    contentType: text('content_type').notNull(),
    ownerId: text('owner_id'),
    /** The record the object was first written for. */
    recordUid: uuid('record_uid'),
    refs: integer('refs').notNull().default(0),
    /** True once the bytes are known to be completely written (set with the first reference). */
    stored: boolean('stored').notNull().default(false),
    state: objectStateEnum('state').notNull().default('live'),
    createdAt: timestampMs('created_at').notNull().defaultNow(),
    updatedAt: timestampMs('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('objects_dedupe_idx').on(t.ownerId, t.sha256).where(sql`${t.state} = 'live'`),
    index('objects_unreferenced_idx').on(t.createdAt).where(sql`${t.refs} = 0 and ${t.state} <> 'deleted'`),
  ],
);

/**
 * What each user holds, kept by triggers on `objects` and `records` in the transaction that changes them (migration
 * 0012): the bytes of the user's live objects and the number of the user's records. The quotas read these instead
 * of summing and counting the user's rows for every file.
 */
export const usageCounts = pgTable('user_usage', {
  userId: text('user_id').primaryKey(),
  storedBytes: bigint('stored_bytes', { mode: 'number' }).notNull().default(0),
  records: bigint('records', { mode: 'number' }).notNull().default(0),
});

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
    storageKey: text('storage_key').references(() => objects.key),
    /** The record's thumbnail (a WebP object of its own, referenced like the file). */
    thumbnailKey: text('thumbnail_key').references(() => objects.key),
    source: recordSourceEnum('source'),
    sourceUrl: text('source_url'),
    userId: text('user_id'),
    generationId: text('generation_id'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    /** What validation read from the stored file; the filterable parts are also the typed columns below. */
    mediaInfo: jsonb('media_info').$type<FormatInfo>(),
    width: integer('width'),
    height: integer('height'),
    durationSeconds: doublePrecision('duration_seconds'),
    /** The file's name as its source gave it (URL path, Content-Disposition, multipart), sanitised. */
    originalName: text('original_name'),
    error: text('error'),
    /** Who holds the `processing` claim: every write of the claim holder is guarded on it. */
    claimToken: uuid('claim_token'),
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
    index('records_storage_key_idx').on(t.storageKey),
    index('records_duration_idx').on(t.durationSeconds).where(sql`${t.durationSeconds} is not null`),
    index('records_dimensions_idx').on(t.width, t.height).where(sql`${t.width} is not null`),
    index('records_without_file_idx').on(t.createdAt, t.uid).where(sql`${t.storageKey} is null`),
  ],
);

export type RecordRow = typeof records.$inferSelect;
export type NewRecordRow = typeof records.$inferInsert;
export * from './auth-schema.ts';
export * from './queue-schema.ts';
export * from './schedule-schema.ts';
export * from './uploads-schema.ts';
export * from './webhook-schema.ts';
