/** Webhooks, their deliveries and idempotency keys: what a task asked to be told, and what was sent. */
import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgEnum, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { timestampMs } from './columns.ts';
import { tasks } from './queue-schema.ts';

export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'delivering', 'succeeded', 'failed'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];
export const webhookDeliveryStatusEnum = pgEnum('webhook_delivery_status', WEBHOOK_DELIVERY_STATUSES);

/** The callback a task names. Triggers (migration 0004) turn its task's (and items') endings into deliveries. */
export const taskWebhooks = pgTable('task_webhooks', {
  taskId: uuid('task_id')
    .primaryKey()
    .references(() => tasks.id, { onDelete: 'cascade' }),
  url: text('url').notNull(),
  /** The HMAC key (the endpoint's own secret, or the API key's webhook secret). Never shown. */
  secret: text('secret').notNull(),
  eachItem: boolean('each_item').notNull().default(false),
  allowPrivate: boolean('allow_private').notNull().default(false),
  maxDeliveries: integer('max_deliveries').notNull(),
  createdAt: timestampMs('created_at').notNull().defaultNow(),
});

/** One event to send; claimed with SKIP LOCKED and leased like a queue item, so a dead worker's delivery resumes. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    taskId: uuid('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    userId: text('user_id'),
    event: text('event').notNull(),
    itemSeq: integer('item_seq'),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    status: webhookDeliveryStatusEnum('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    runAt: timestampMs('run_at').notNull().defaultNow(),
    lockedBy: text('locked_by'),
    lockedUntil: timestampMs('locked_until'),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    /** The first bytes of the receiver's last answer (bounded). */
    lastResponse: text('last_response'),
    createdAt: timestampMs('created_at').notNull().defaultNow(),
    deliveredAt: timestampMs('delivered_at'),
  },
  (t) => [
    index('webhook_deliveries_due_idx').on(t.runAt).where(sql`${t.status} = 'pending'`),
    index('webhook_deliveries_lease_idx').on(t.lockedUntil).where(sql`${t.status} = 'delivering'`),
    index('webhook_deliveries_task_idx').on(t.taskId, t.createdAt),
    // Owners take turns (claimDeliveries walks the owners with pending deliveries through it): migration 0009.
    index('webhook_deliveries_owner_due_idx')
      .on(sql`coalesce(${t.userId}, '')`, t.runAt, t.id)
      .where(sql`${t.status} = 'pending'`),
  ],
);

/** An idempotency key per owner ('' for tasks without one): the task it created and a hash of the request. */
export const taskIdempotency = pgTable(
  'task_idempotency',
  {
    owner: text('owner').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    taskId: uuid('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    createdAt: timestampMs('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.owner, t.key] })],
);

export type TaskWebhookRow = typeof taskWebhooks.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
