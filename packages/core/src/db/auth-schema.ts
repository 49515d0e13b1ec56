/** API keys: the secret is never stored, only its SHA-256; the id is public and names the key in logs. */
import { boolean, index, pgTable, text } from 'drizzle-orm/pg-core';
import { timestampMs } from './columns.ts';

export const apiKeys = pgTable(
  'api_keys',
  {
    /** Public part of the key (`mfk_<id>_<secret>`), safe to log and to show in listings. */
    id: text('id').primaryKey(),
    /** Hex SHA-256 of the secret part. */
    secretHash: text('secret_hash').notNull(),
    userId: text('user_id').notNull(),
    admin: boolean('admin').notNull().default(false),
    name: text('name'),
    createdAt: timestampMs('created_at').notNull().defaultNow(),
    lastUsedAt: timestampMs('last_used_at'),
    revokedAt: timestampMs('revoked_at'),
  },
  (t) => [index('api_keys_user_idx').on(t.userId)],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;
