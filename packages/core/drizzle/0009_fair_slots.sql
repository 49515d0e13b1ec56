-- Owners take turns for slots that are held long.
-- Webhook deliveries are claimed by owner in turn: each owner's earliest due deliveries, at most two of an owner's in
-- flight at once, found through this index one owner at a time. One user's slow receiver (each delivery holding a
-- slot for its 10 s timeout, 8 attempts) held another user's first delivery back 96 s.
CREATE INDEX "webhook_deliveries_owner_due_idx" ON "webhook_deliveries" USING btree (coalesce("user_id", ''),"run_at","id") WHERE "webhook_deliveries"."status" = 'pending';
--> statement-breakpoint
-- A worker's reserved slot: while one user holds a worker's other slots, that slot takes only other owners' items,
-- found task by task through this index (the claim index would walk the busy user's whole backlog). Entries are
-- written only when an item becomes queued, so claims and completions do not maintain it.
CREATE INDEX "task_items_queued_task_idx" ON "task_items" USING btree ("task_id","seq") WHERE "task_items"."status" = 'queued';
