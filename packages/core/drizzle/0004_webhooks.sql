CREATE TYPE "public"."webhook_delivery_status" AS ENUM('pending', 'delivering', 'succeeded', 'failed');--> statement-breakpoint
CREATE TABLE "task_webhooks" (
	"task_id" uuid PRIMARY KEY NOT NULL,
	"url" text NOT NULL,
	"secret" text NOT NULL,
	"each_item" boolean DEFAULT false NOT NULL,
	"allow_private" boolean DEFAULT false NOT NULL,
	"max_deliveries" integer NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"task_id" uuid NOT NULL,
	"user_id" text,
	"event" text NOT NULL,
	"item_seq" integer,
	"payload" jsonb NOT NULL,
	"status" "webhook_delivery_status" DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer NOT NULL,
	"run_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"locked_by" text,
	"locked_until" timestamp (3) with time zone,
	"last_status" integer,
	"last_error" text,
	"last_response" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "task_idempotency" (
	"owner" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"task_id" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "task_idempotency_owner_key_pk" PRIMARY KEY("owner","key")
);
--> statement-breakpoint
ALTER TABLE "task_webhooks" ADD CONSTRAINT "task_webhooks_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "task_idempotency" ADD CONSTRAINT "task_idempotency_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries" USING btree ("run_at") WHERE "webhook_deliveries"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "webhook_deliveries_lease_idx" ON "webhook_deliveries" USING btree ("locked_until") WHERE "webhook_deliveries"."status" = 'delivering';--> statement-breakpoint
CREATE INDEX "webhook_deliveries_task_idx" ON "webhook_deliveries" USING btree ("task_id","created_at");--> statement-breakpoint
CREATE INDEX "task_items_failed_idx" ON "task_items" USING btree ("finished_at" DESC NULLS LAST) WHERE "task_items"."status" = 'failed';--> statement-breakpoint
-- A finished task (or item, when asked) gets its delivery row in the same transaction that finished it: nothing
-- between the outcome and the row can lose it. Deliveries per task are capped by the webhook's max_deliveries.
-- The NOTIFY (sent at commit) wakes the workers' deliverers, which otherwise only poll slowly.
CREATE FUNCTION "mediaforge_task_webhook"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO "webhook_deliveries" ("task_id", "user_id", "event", "payload", "max_attempts")
	SELECT NEW."id", NEW."user_id", 'task.finished',
		jsonb_build_object('taskId', NEW."id", 'kind', NEW."kind", 'status', NEW."status", 'total', NEW."total",
			'succeeded', NEW."succeeded", 'failed', NEW."failed", 'cancelled', NEW."cancelled",
			'errorCode', NEW."error_code", 'errorMessage', NEW."error_message", 'userId', NEW."user_id",
			'generationId', NEW."generation_id", 'finishedAt', NEW."finished_at"),
		8
	FROM "task_webhooks" w
	WHERE w."task_id" = NEW."id"
		AND (SELECT count(*) FROM "webhook_deliveries" d WHERE d."task_id" = NEW."id") < w."max_deliveries";
	IF FOUND THEN PERFORM pg_notify('mediaforge_webhooks', ''); END IF;
	RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "tasks_webhook_on_finish" AFTER UPDATE OF "status" ON "tasks" FOR EACH ROW
	WHEN (OLD."status" IN ('queued', 'running') AND NEW."status" IN ('succeeded', 'failed', 'cancelled'))
	EXECUTE FUNCTION "mediaforge_task_webhook"();--> statement-breakpoint
-- Per item: a row trigger whose WHEN (evaluated without calling the function) passes only terminal transitions, so
-- claims and heartbeats pay nothing. Item deliveries leave room (10) for the task's own deliveries under the cap.
CREATE FUNCTION "mediaforge_item_webhook"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO "webhook_deliveries" ("task_id", "user_id", "event", "item_seq", "payload", "max_attempts")
	SELECT NEW."task_id", t."user_id", 'item.finished', NEW."seq",
		jsonb_build_object('taskId', NEW."task_id", 'seq', NEW."seq", 'status', NEW."status", 'attempts', NEW."attempts",
			'result', NEW."result", 'errorCode', NEW."error_code", 'errorMessage', NEW."error_message",
			'finishedAt', NEW."finished_at"),
		8
	FROM "task_webhooks" w JOIN "tasks" t ON t."id" = w."task_id"
	WHERE w."task_id" = NEW."task_id" AND w."each_item"
		AND (SELECT count(*) FROM "webhook_deliveries" d WHERE d."task_id" = NEW."task_id") < w."max_deliveries" - 10;
	IF FOUND THEN PERFORM pg_notify('mediaforge_webhooks', ''); END IF;
	RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "task_items_webhook_on_finish" AFTER UPDATE OF "status" ON "task_items" FOR EACH ROW
	WHEN (OLD."status" IS DISTINCT FROM NEW."status" AND NEW."status" IN ('succeeded', 'failed', 'cancelled'))
	EXECUTE FUNCTION "mediaforge_item_webhook"();
