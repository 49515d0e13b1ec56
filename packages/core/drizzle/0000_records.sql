CREATE TYPE "public"."media_type" AS ENUM('text', 'audio', 'video', 'image');--> statement-breakpoint
CREATE TYPE "public"."record_source" AS ENUM('generated', 'url', 'upload');--> statement-breakpoint
CREATE TYPE "public"."record_status" AS ENUM('pending', 'processing', 'uploaded', 'failed');--> statement-breakpoint
CREATE TABLE "records" (
	"uid" uuid PRIMARY KEY NOT NULL,
	"media_type" "media_type" NOT NULL,
	"title" text,
	"language" text,
	"status" "record_status" DEFAULT 'pending' NOT NULL,
	"file_url" text,
	"file_name" text,
	"file_size" bigint,
	"content_type" text,
	"sha256" text,
	"storage_key" text,
	"source" "record_source",
	"source_url" text,
	"user_id" text,
	"generation_id" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"error" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "records_created_idx" ON "records" USING btree ("created_at","uid");--> statement-breakpoint
CREATE INDEX "records_status_created_idx" ON "records" USING btree ("status","created_at","uid");--> statement-breakpoint
CREATE INDEX "records_media_type_created_idx" ON "records" USING btree ("media_type","created_at","uid");--> statement-breakpoint
CREATE INDEX "records_user_created_idx" ON "records" USING btree ("user_id","created_at","uid");--> statement-breakpoint
CREATE INDEX "records_generation_idx" ON "records" USING btree ("generation_id");--> statement-breakpoint
CREATE INDEX "records_sha256_idx" ON "records" USING btree ("user_id","sha256");--> statement-breakpoint
CREATE INDEX "records_without_file_idx" ON "records" USING btree ("created_at","uid") WHERE "records"."storage_key" is null;