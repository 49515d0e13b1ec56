-- A user's tasks keep their input (the items' payloads: URLs, options) in the database until their items are pruned,
-- TASK_RETENTION_DAYS after they end. Nothing bounded it: create and cancel in a loop grew one database by 12 MB/s
-- (decision 0056). Each task now records what it keeps, counted against USER_TASK_STORAGE_MB while it is kept.
ALTER TABLE "tasks" ADD COLUMN "stored_bytes" bigint DEFAULT 0 NOT NULL;
--> statement-breakpoint
CREATE INDEX "tasks_user_stored_idx" ON "tasks" ("user_id") WHERE "stored_bytes" > 0;
