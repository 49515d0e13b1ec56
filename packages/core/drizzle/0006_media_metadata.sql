ALTER TABLE "records" ADD COLUMN "width" integer;--> statement-breakpoint
ALTER TABLE "records" ADD COLUMN "height" integer;--> statement-breakpoint
ALTER TABLE "records" ADD COLUMN "duration_seconds" double precision;--> statement-breakpoint
ALTER TABLE "records" ADD COLUMN "media_info" jsonb;--> statement-breakpoint
ALTER TABLE "records" ADD COLUMN "original_name" text;--> statement-breakpoint
CREATE INDEX "records_duration_idx" ON "records" USING btree ("duration_seconds") WHERE "records"."duration_seconds" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "records_dimensions_idx" ON "records" USING btree ("width","height") WHERE "records"."width" IS NOT NULL;--> statement-breakpoint
-- Stored files' metadata moves from the untyped metadata.media to the typed columns. Only records with a file: their
-- metadata.media was written by the validators (a pending record's metadata is whatever its creator sent), and only
-- values of the right JSON type and range are copied (nested CASEs: AND does not promise to test the type first), so
-- no row can make the migration fail.
UPDATE "records" SET
	"media_info" = "metadata"->'media',
	"width" = CASE WHEN jsonb_typeof("metadata"->'media'->'width') = 'number' THEN
		CASE WHEN ("metadata"->'media'->>'width')::numeric BETWEEN 1 AND 2147483647
		THEN ("metadata"->'media'->>'width')::numeric::integer END END,
	"height" = CASE WHEN jsonb_typeof("metadata"->'media'->'height') = 'number' THEN
		CASE WHEN ("metadata"->'media'->>'height')::numeric BETWEEN 1 AND 2147483647
		THEN ("metadata"->'media'->>'height')::numeric::integer END END,
	"duration_seconds" = CASE WHEN jsonb_typeof("metadata"->'media'->'durationSeconds') = 'number'
		THEN ("metadata"->'media'->>'durationSeconds')::double precision END,
	"metadata" = "metadata" - 'media'
WHERE "storage_key" IS NOT NULL AND jsonb_typeof("metadata"->'media') = 'object';--> statement-breakpoint
-- Uploads kept the client's file name in metadata.upload.fileName: it becomes the original name, control characters,
-- path separators and quotes replaced as the pipeline does for new files, and bounded to 255 characters.
UPDATE "records" SET "original_name" = left(regexp_replace("metadata"->'upload'->>'fileName', '[[:cntrl:]/\\"]', '_', 'g'), 255)
WHERE "storage_key" IS NOT NULL AND jsonb_typeof("metadata"->'upload'->'fileName') = 'string'
	AND length(trim("metadata"->'upload'->>'fileName')) > 0;
--> statement-breakpoint
CREATE INDEX "tasks_generation_idx" ON "tasks" USING btree ("generation_id");
