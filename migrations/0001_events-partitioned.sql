-- Engagement events, range-partitioned by month on occurred_at. drizzle-kit cannot create
-- partitioned tables, so this file is hand-written and drizzle.config.ts keeps the table out of
-- drizzle-kit's view; shared/db/schema/events.ts mirrors these columns for typed queries.
-- A unique key on a partitioned table must contain the partition key, hence (id, occurred_at).
CREATE TABLE "events" (
	"id" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"org_id" text NOT NULL,
	"type" text NOT NULL,
	"user_id" text,
	"anonymous_id" text,
	"session_id" text,
	"content_id" text,
	"query_id" text,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "events_id_occurred_at_pk" PRIMARY KEY ("id", "occurred_at"),
	CONSTRAINT "events_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action,
	CONSTRAINT "events_data_object" CHECK (jsonb_typeof("data") = 'object')
) PARTITION BY RANGE ("occurred_at");
--> statement-breakpoint
-- Rows whose month has no partition (late events from past months, or a cron that has not run)
-- land here rather than failing; ensure_event_partitions moves them out when it creates their
-- month's partition.
CREATE TABLE "events_default" PARTITION OF "events" DEFAULT;
--> statement-breakpoint
-- Indexes on the parent are created on every partition, present and future.
CREATE INDEX "events_org_occurred_idx" ON "events" USING btree ("org_id", "occurred_at");
--> statement-breakpoint
CREATE INDEX "events_org_content_occurred_idx" ON "events" USING btree ("org_id", "content_id", "occurred_at") WHERE "content_id" IS NOT NULL;
--> statement-breakpoint
CREATE INDEX "events_org_type_occurred_idx" ON "events" USING btree ("org_id", "type", "occurred_at");
--> statement-breakpoint
-- Creates the monthly partitions events_YYYY_MM (UTC months) from the current month through
-- months_ahead months later, and returns the names of those it created: calling it again
-- creates nothing. A cron job calls it; this migration calls it once.
--
-- Each partition is built as a standalone table, filled with the rows of its month that
-- already sit in the DEFAULT partition, then attached. (CREATE TABLE ... PARTITION OF fails
-- when DEFAULT holds rows of the new range.) The advisory lock serialises concurrent callers.
CREATE OR REPLACE FUNCTION "ensure_event_partitions"("months_ahead" integer DEFAULT 3)
RETURNS SETOF text
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
	parent_schema text;
	first_month date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
	month_start date;
	partition_name text;
	lower_bound text;
	upper_bound text;
BEGIN
	IF months_ahead IS NULL OR months_ahead < 0 OR months_ahead > 120 THEN
		RAISE EXCEPTION 'months_ahead must be between 0 and 120, not %', months_ahead;
	END IF;
	SELECT n.nspname INTO parent_schema
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.oid = 'events'::regclass;
	PERFORM pg_advisory_xact_lock(hashtext('sift.ensure_event_partitions'));
	FOR i IN 0..months_ahead LOOP
		month_start := (first_month + make_interval(months => i))::date;
		partition_name := 'events_' || to_char(month_start, 'YYYY_MM');
		CONTINUE WHEN to_regclass(format('%I.%I', parent_schema, partition_name)) IS NOT NULL;
		-- Explicit UTC offsets: the bounds must not depend on the session's TimeZone.
		lower_bound := to_char(month_start, 'YYYY-MM-DD') || ' 00:00:00+00';
		upper_bound := to_char(month_start + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00';
		EXECUTE format('CREATE TABLE %I.%I (LIKE %I.events INCLUDING ALL)',
			parent_schema, partition_name, parent_schema);
		EXECUTE format(
			'WITH moved AS (DELETE FROM %I.events_default WHERE occurred_at >= %L AND occurred_at < %L RETURNING *) '
			'INSERT INTO %I.%I SELECT * FROM moved',
			parent_schema, lower_bound, upper_bound, parent_schema, partition_name);
		EXECUTE format('ALTER TABLE %I.events ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',
			parent_schema, parent_schema, partition_name, lower_bound, upper_bound);
		RETURN NEXT partition_name;
	END LOOP;
END
$$;
--> statement-breakpoint
SELECT "ensure_event_partitions"(3);
