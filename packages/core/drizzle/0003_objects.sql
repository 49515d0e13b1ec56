CREATE TYPE "public"."object_state" AS ENUM('live', 'deleting', 'deleted');--> statement-breakpoint
CREATE TABLE "objects" (
	"key" text PRIMARY KEY NOT NULL,
	"sha256" text NOT NULL,
	"size" bigint NOT NULL,
	"content_type" text NOT NULL,
	"owner_id" text,
	"record_uid" uuid,
	"refs" integer DEFAULT 0 NOT NULL,
	"stored" boolean DEFAULT false NOT NULL,
	"state" "object_state" DEFAULT 'live' NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "records" ADD COLUMN "claim_token" uuid;--> statement-breakpoint
CREATE INDEX "objects_dedupe_idx" ON "objects" USING btree ("owner_id","sha256") WHERE "objects"."state" = 'live';--> statement-breakpoint
CREATE INDEX "objects_unreferenced_idx" ON "objects" USING btree ("created_at") WHERE "objects"."refs" = 0 and "objects"."state" <> 'deleted';--> statement-breakpoint
-- Existing files become objects: one row per stored key, owned by (and counted for) the records that point at it.
INSERT INTO "objects" ("key", "sha256", "size", "content_type", "owner_id", "record_uid", "refs", "stored", "created_at")
SELECT DISTINCT ON ("storage_key") "storage_key", coalesce("sha256", ''), coalesce("file_size", 0),
	coalesce("content_type", 'application/octet-stream'), "user_id", "uid",
	count(*) OVER (PARTITION BY "storage_key"), true, "created_at"
FROM "records" WHERE "storage_key" IS NOT NULL
ORDER BY "storage_key", "created_at";--> statement-breakpoint
-- A claim from before this migration has no token: it is released so the record can be claimed again.
UPDATE "records" SET "status" = CASE WHEN "storage_key" IS NULL THEN 'pending'::"record_status" ELSE 'uploaded'::"record_status" END
WHERE "status" = 'processing';--> statement-breakpoint
ALTER TABLE "records" ADD CONSTRAINT "records_storage_key_objects_key_fk" FOREIGN KEY ("storage_key") REFERENCES "public"."objects"("key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "records_storage_key_idx" ON "records" USING btree ("storage_key");