-- A batch's writes sent as one statement (object-batches.ts, quota-reservations.ts) check the owners' caps where the
-- count is exact: in the triggers that add them to `user_usage`. That update waits for and applies to the latest row,
-- so the count it leaves includes every write committed before it, which a read at the start of the statement would
-- not (its snapshot is taken before the statement waits for the owners' locks). The statement sets
-- `mediaforge.max_records` (a batch's records) or `mediaforge.max_stored_bytes` (a batch's object reservations) for
-- its own transaction; when an owner it added to then holds more, it fails whole and the batch takes the
-- transaction that answers file by file (decision 0059). Statements that set neither are not checked here.
CREATE OR REPLACE FUNCTION "mediaforge_records_usage"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	changes jsonb;
	cap bigint := nullif(current_setting('mediaforge.max_records', true), '')::bigint;
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
	-- Nested: `new_rows` exists only for inserts, and one expression is planned whole.
	IF TG_OP = 'INSERT' AND cap > 0 THEN
		IF EXISTS (
			SELECT 1 FROM "user_usage" WHERE "records" > cap AND "user_id" IN (SELECT "user_id" FROM new_rows)
		) THEN
			RAISE EXCEPTION 'mediaforge: a user''s record cap (%) would be passed', cap USING ERRCODE = 'check_violation';
		END IF;
	END IF;
	RETURN NULL;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "mediaforge_objects_usage"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	changes jsonb;
	cap bigint := nullif(current_setting('mediaforge.max_stored_bytes', true), '')::bigint;
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
	IF TG_OP = 'INSERT' AND cap > 0 THEN
		IF EXISTS (
			SELECT 1 FROM "user_usage" WHERE "stored_bytes" > cap
			AND "user_id" IN (SELECT "owner_id" FROM new_rows WHERE "state" = 'live')
		) THEN
			RAISE EXCEPTION 'mediaforge: a user''s storage quota (% bytes) would be passed', cap
				USING ERRCODE = 'check_violation';
		END IF;
	END IF;
	RETURN NULL;
END $$;
