-- Fair claiming across owners: each item gets a place in its owner's lane (`fair_at`), spaced one second apart from
-- the owner's previous items, and workers claim by that place instead of by enqueue time. One user's 400-item batch
-- no longer holds another user's single item back until it is done (once: 173 s).
ALTER TABLE "task_items" ADD COLUMN "fair_at" timestamp (3) with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
CREATE TABLE "queue_lanes" (
	"owner" text PRIMARY KEY NOT NULL,
	"next_at" timestamp (3) with time zone NOT NULL
);--> statement-breakpoint
DROP INDEX IF EXISTS "task_items_claim_idx";--> statement-breakpoint
CREATE INDEX "task_items_claim_idx" ON "task_items" USING btree ("queue","priority" DESC NULLS LAST,"fair_at","id") WHERE "task_items"."status" = 'queued';
