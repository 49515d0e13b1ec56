CREATE TYPE "public"."staged_upload_kind" AS ENUM('presigned', 'token', 'tus');--> statement-breakpoint
CREATE TYPE "public"."staged_upload_state" AS ENUM('issued', 'receiving', 'received', 'completing', 'done', 'failed');--> statement-breakpoint
CREATE TABLE "staged_uploads" (
	"id" uuid PRIMARY KEY NOT NULL,
	"kind" "staged_upload_kind" NOT NULL,
	"record_uid" uuid NOT NULL,
	"user_id" text,
	"staging_key" text NOT NULL,
	"token_hash" text,
	"max_size" bigint NOT NULL,
	"state" "staged_upload_state" DEFAULT 'issued' NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "staged_uploads_user_idx" ON "staged_uploads" USING btree ("user_id","state");--> statement-breakpoint
CREATE INDEX "staged_uploads_expires_idx" ON "staged_uploads" USING btree ("expires_at") WHERE "staged_uploads"."state" <> 'done';--> statement-breakpoint
ALTER TABLE "records" ADD COLUMN "thumbnail_key" text;--> statement-breakpoint
ALTER TABLE "records" ADD CONSTRAINT "records_thumbnail_key_objects_key_fk" FOREIGN KEY ("thumbnail_key") REFERENCES "public"."objects"("key") ON DELETE no action ON UPDATE no action;
