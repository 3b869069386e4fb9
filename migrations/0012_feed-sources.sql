CREATE TYPE "public"."feed_poll_status" AS ENUM('ok', 'not_modified', 'failed');--> statement-breakpoint
ALTER TYPE "public"."webhook_source_kind" ADD VALUE 'feed';--> statement-breakpoint
ALTER TABLE "webhook_sources" ALTER COLUMN "secret_ciphertext" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "webhook_source_items" ADD COLUMN "fingerprint" text;--> statement-breakpoint
ALTER TABLE "webhook_sources" ADD COLUMN "feed_etag" text;--> statement-breakpoint
ALTER TABLE "webhook_sources" ADD COLUMN "feed_last_modified" text;--> statement-breakpoint
ALTER TABLE "webhook_sources" ADD COLUMN "last_polled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "webhook_sources" ADD COLUMN "next_poll_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "webhook_sources" ADD COLUMN "polling_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "webhook_sources" ADD COLUMN "last_poll_status" "feed_poll_status";--> statement-breakpoint
ALTER TABLE "webhook_sources" ADD COLUMN "last_poll_status_code" integer;--> statement-breakpoint
ALTER TABLE "webhook_sources" ADD COLUMN "last_poll_error" text;--> statement-breakpoint
ALTER TABLE "webhook_sources" ADD COLUMN "consecutive_failures" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "webhook_sources_next_poll_idx" ON "webhook_sources" USING btree ("next_poll_at") WHERE "webhook_sources"."next_poll_at" is not null and "webhook_sources"."disabled_at" is null;--> statement-breakpoint
ALTER TABLE "webhook_sources" ADD CONSTRAINT "webhook_sources_consecutive_failures" CHECK ("webhook_sources"."consecutive_failures" >= 0);--> statement-breakpoint
ALTER TABLE "webhook_sources" ADD CONSTRAINT "webhook_sources_secret_unless_feed" CHECK (("webhook_sources"."kind"::text = 'feed') = ("webhook_sources"."secret_ciphertext" is null));--> statement-breakpoint
ALTER TABLE "webhook_sources" ADD CONSTRAINT "webhook_sources_poll_only_feeds" CHECK ("webhook_sources"."kind"::text = 'feed' or "webhook_sources"."next_poll_at" is null);