-- A reader's own events (recommendations read their history by session, anonymous visitor or
-- user), one partial index per identity, created on every partition, present and future.
CREATE INDEX "events_org_session_occurred_idx" ON "events" USING btree ("org_id", "session_id", "occurred_at") WHERE "session_id" IS NOT NULL;
--> statement-breakpoint
CREATE INDEX "events_org_anonymous_occurred_idx" ON "events" USING btree ("org_id", "anonymous_id", "occurred_at") WHERE "anonymous_id" IS NOT NULL;
--> statement-breakpoint
CREATE INDEX "events_org_user_occurred_idx" ON "events" USING btree ("org_id", "user_id", "occurred_at") WHERE "user_id" IS NOT NULL;
