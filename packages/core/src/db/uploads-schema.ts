/** Uploads that land in storage before the pipeline sees them: presigned PUTs, one-time upload tokens and TUS. */
import { sql } from 'drizzle-orm';
import { bigint, index, pgEnum, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { timestampMs } from './columns.ts';

export const STAGED_UPLOAD_KINDS = ['presigned', 'token', 'tus'] as const;
/**
 * `issued` → (`receiving` while a token PUT streams in) → `received` → `completing` → `done`; any step may end in
 * `failed`. Each move is one guarded UPDATE, so a token or an upload id is used once.
 */
export const STAGED_UPLOAD_STATES = ['issued', 'receiving', 'received', 'completing', 'done', 'failed'] as const;

export type StagedUploadKind = (typeof STAGED_UPLOAD_KINDS)[number];
export type StagedUploadState = (typeof STAGED_UPLOAD_STATES)[number];

export const stagedUploadKindEnum = pgEnum('staged_upload_kind', STAGED_UPLOAD_KINDS);
export const stagedUploadStateEnum = pgEnum('staged_upload_state', STAGED_UPLOAD_STATES);

export const stagedUploads = pgTable(
  'staged_uploads',
  {
    id: uuid('id').primaryKey(),
    kind: stagedUploadKindEnum('kind').notNull(),
    /** The record the bytes are for; checked again (in scope) when the upload completes. */
    recordUid: uuid('record_uid').notNull(),
    userId: text('user_id'),
    /** Where the bytes wait: `staging/{id}` in the object store, or the TUS store's upload id. Never a record's key. */
    stagingKey: text('staging_key').notNull(),
    /** SHA-256 of a one-time upload token (local disk); the token itself is never stored. */
    tokenHash: text('token_hash'),
    maxSize: bigint('max_size', { mode: 'number' }).notNull(),
    state: stagedUploadStateEnum('state').notNull().default('issued'),
    expiresAt: timestampMs('expires_at').notNull(),
    createdAt: timestampMs('created_at').notNull().defaultNow(),
    updatedAt: timestampMs('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('staged_uploads_user_idx').on(t.userId, t.state),
    index('staged_uploads_expires_idx').on(t.expiresAt).where(sql`${t.state} <> 'done'`),
  ],
);

export type StagedUploadRow = typeof stagedUploads.$inferSelect;
