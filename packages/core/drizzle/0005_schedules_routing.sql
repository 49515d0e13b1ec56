ALTER TYPE "public"."task_kind" ADD VALUE 'optimization';--> statement-breakpoint
ALTER TABLE "task_items" ADD COLUMN "max_concurrent" integer;--> statement-breakpoint
CREATE TABLE "schedules" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" text,
	"name" text NOT NULL,
	"cron" text NOT NULL,
	"timezone" text DEFAULT 'UTC' NOT NULL,
	"action" text NOT NULL,
	"params" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"next_run_at" timestamp (3) with time zone NOT NULL,
	"last_tick" timestamp (3) with time zone,
	"last_task_id" uuid,
	"last_error" text,
	"fired" integer DEFAULT 0 NOT NULL,
	"skipped" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "schedules_action_check" CHECK ("action" in ('generate_auto', 'ingest', 'maintenance'))
);
--> statement-breakpoint
CREATE TABLE "schedule_runs" (
	"schedule_id" uuid NOT NULL,
	"tick" timestamp (3) with time zone NOT NULL,
	"task_id" uuid,
	"error_code" text,
	"worker_id" text,
	"fired_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "schedule_runs_schedule_id_tick_pk" PRIMARY KEY("schedule_id","tick")
);
--> statement-breakpoint
ALTER TABLE "schedule_runs" ADD CONSTRAINT "schedule_runs_schedule_id_schedules_id_fk" FOREIGN KEY ("schedule_id") REFERENCES "public"."schedules"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "schedules_due_idx" ON "schedules" USING btree ("next_run_at");--> statement-breakpoint
CREATE INDEX "schedules_user_idx" ON "schedules" USING btree ("user_id","created_at");
--> statement-breakpoint
CREATE INDEX "task_items_running_task_idx" ON "task_items" USING btree ("task_id") WHERE "task_items"."status" = 'running';
