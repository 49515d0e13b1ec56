-- The quotas read a user's stored bytes and records from here instead of summing the user's objects and counting the
-- user's records for every file: those scans grew with what the user already had, so a user with 99,000 records
-- ingested 22 files/s where a new user ingested 330 (decision 0057). The database keeps the counts itself, in the
-- same transaction as the change, whatever path writes the rows. Inserts and deletes (which may be many rows at once)
-- add one change per user a statement touched, in user order, so two statements touching the same users lock their
-- rows in the same order. Updates are single objects changing state; their row trigger's WHEN (evaluated without
-- calling anything) passes only changes of state, size or owner, so the refs moving on every file pay nothing.
CREATE TABLE "user_usage" (
	"user_id" text PRIMARY KEY NOT NULL,
	"stored_bytes" bigint DEFAULT 0 NOT NULL,
	"records" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE FUNCTION "mediaforge_usage_add"("changes" jsonb) RETURNS void LANGUAGE sql AS $$
	INSERT INTO "user_usage" ("user_id", "stored_bytes", "records")
	SELECT c."user_id", c."bytes", c."records"
	FROM jsonb_to_recordset("changes") AS c("user_id" text, "bytes" bigint, "records" bigint)
	ORDER BY c."user_id"
	ON CONFLICT ("user_id") DO UPDATE SET
		"stored_bytes" = "user_usage"."stored_bytes" + excluded."stored_bytes",
		"records" = "user_usage"."records" + excluded."records";
$$;
--> statement-breakpoint
-- Live objects count their size towards their owner (a reservation is live until released or deleted).
CREATE FUNCTION "mediaforge_objects_usage"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	changes jsonb;
BEGIN
	IF TG_OP = 'INSERT' THEN
		SELECT jsonb_agg(jsonb_build_object('user_id', u, 'bytes', b, 'records', 0)) INTO changes
		FROM (SELECT "owner_id" AS u, sum("size") AS b FROM new_rows
			WHERE "owner_id" IS NOT NULL AND "state" = 'live' GROUP BY 1) d WHERE b <> 0;
	ELSIF TG_OP = 'DELETE' THEN
		SELECT jsonb_agg(jsonb_build_object('user_id', u, 'bytes', -b, 'records', 0)) INTO changes
		FROM (SELECT "owner_id" AS u, sum("size") AS b FROM old_rows
			WHERE "owner_id" IS NOT NULL AND "state" = 'live' GROUP BY 1) d WHERE b <> 0;
	ELSE
		SELECT jsonb_agg(jsonb_build_object('user_id', u, 'bytes', b, 'records', 0)) INTO changes
		FROM (SELECT u, sum(b) AS b FROM (VALUES
				(CASE WHEN NEW."state" = 'live' THEN NEW."owner_id" END, NEW."size"),
				(CASE WHEN OLD."state" = 'live' THEN OLD."owner_id" END, -OLD."size")
			) e(u, b) WHERE u IS NOT NULL GROUP BY 1) d WHERE b <> 0;
	END IF;
	IF changes IS NOT NULL THEN PERFORM "mediaforge_usage_add"(changes); END IF;
	RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION "mediaforge_records_usage"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	changes jsonb;
BEGIN
	IF TG_OP = 'INSERT' THEN
		SELECT jsonb_agg(jsonb_build_object('user_id', u, 'bytes', 0, 'records', n)) INTO changes
		FROM (SELECT "user_id" AS u, count(*) AS n FROM new_rows WHERE "user_id" IS NOT NULL GROUP BY 1) d;
	ELSIF TG_OP = 'DELETE' THEN
		SELECT jsonb_agg(jsonb_build_object('user_id', u, 'bytes', 0, 'records', -n)) INTO changes
		FROM (SELECT "user_id" AS u, count(*) AS n FROM old_rows WHERE "user_id" IS NOT NULL GROUP BY 1) d;
	ELSE
		SELECT jsonb_agg(jsonb_build_object('user_id', u, 'bytes', 0, 'records', n)) INTO changes
		FROM (VALUES (NEW."user_id", 1), (OLD."user_id", -1)) e(u, n) WHERE u IS NOT NULL;
	END IF;
	IF changes IS NOT NULL THEN PERFORM "mediaforge_usage_add"(changes); END IF;
	RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "objects_usage_insert" AFTER INSERT ON "objects" REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION "mediaforge_objects_usage"();
--> statement-breakpoint
CREATE TRIGGER "objects_usage_update" AFTER UPDATE ON "objects" FOR EACH ROW
	WHEN (OLD."state" IS DISTINCT FROM NEW."state" OR OLD."size" IS DISTINCT FROM NEW."size"
		OR OLD."owner_id" IS DISTINCT FROM NEW."owner_id")
	EXECUTE FUNCTION "mediaforge_objects_usage"();
--> statement-breakpoint
CREATE TRIGGER "objects_usage_delete" AFTER DELETE ON "objects" REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION "mediaforge_objects_usage"();
--> statement-breakpoint
CREATE TRIGGER "records_usage_insert" AFTER INSERT ON "records" REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION "mediaforge_records_usage"();
--> statement-breakpoint
CREATE TRIGGER "records_usage_update" AFTER UPDATE ON "records" FOR EACH ROW
	WHEN (OLD."user_id" IS DISTINCT FROM NEW."user_id")
	EXECUTE FUNCTION "mediaforge_records_usage"();
--> statement-breakpoint
CREATE TRIGGER "records_usage_delete" AFTER DELETE ON "records" REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION "mediaforge_records_usage"();
--> statement-breakpoint
-- What the users hold already, counted once.
INSERT INTO "user_usage" ("user_id", "stored_bytes", "records")
SELECT u, sum(b), sum(n) FROM (
	SELECT "owner_id" AS u, "size" AS b, 0 AS n FROM "objects" WHERE "owner_id" IS NOT NULL AND "state" = 'live'
	UNION ALL
	SELECT "user_id", 0, 1 FROM "records" WHERE "user_id" IS NOT NULL
) e GROUP BY u;
