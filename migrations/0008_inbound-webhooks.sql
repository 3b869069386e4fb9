CREATE TYPE "public"."webhook_source_delivery_status" AS ENUM('accepted', 'duplicate', 'refused', 'unmapped', 'applied', 'failed');--> statement-breakpoint
CREATE TYPE "public"."webhook_source_kind" AS ENUM('standard', 'github', 'stripe', 'hmac');--> statement-breakpoint
ALTER TYPE "public"."audit_actor_type" ADD VALUE 'webhook_source';--> statement-breakpoint
CREATE TABLE "webhook_source_deliveries" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"source_id" text NOT NULL,
	"delivery_id" text,
	"status" "webhook_source_delivery_status" NOT NULL,
	"reason" text,
	"event_type" text,
	"external_id" text,
	"content_id" text,
	"operation_id" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_source_items" (
	"org_id" text NOT NULL,
	"source_id" text NOT NULL,
	"external_id" text NOT NULL,
	"content_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_source_items_pkey" PRIMARY KEY("org_id","source_id","external_id")
);
--> statement-breakpoint
ALTER TABLE "api_keys" DROP CONSTRAINT "api_keys_created_by_actor";--> statement-breakpoint
ALTER TABLE "content" DROP CONSTRAINT "content_created_by_actor";--> statement-breakpoint
ALTER TABLE "content" DROP CONSTRAINT "content_updated_by_actor";--> statement-breakpoint
ALTER TABLE "content_versions" DROP CONSTRAINT "content_versions_created_by_actor";--> statement-breakpoint
ALTER TABLE "operations" DROP CONSTRAINT "operations_created_by_actor";--> statement-breakpoint
ALTER TABLE "synonyms" DROP CONSTRAINT "synonyms_created_by_actor";--> statement-breakpoint
ALTER TABLE "webhook_sources" DROP CONSTRAINT "webhook_sources_created_by_actor";--> statement-breakpoint
ALTER TABLE "webhook_subscriptions" DROP CONSTRAINT "webhook_subscriptions_created_by_actor";--> statement-breakpoint
ALTER TABLE "webhook_sources" ALTER COLUMN "kind" SET DATA TYPE "public"."webhook_source_kind" USING "kind"::"public"."webhook_source_kind";--> statement-breakpoint
ALTER TABLE "webhook_sources" ADD COLUMN "previous_secret_ciphertext" text;--> statement-breakpoint
ALTER TABLE "webhook_sources" ADD COLUMN "previous_secret_expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "webhook_sources" ADD COLUMN "failure_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "webhook_sources" ADD COLUMN "last_failure_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "webhook_sources" ADD COLUMN "last_failure_reason" text;--> statement-breakpoint
ALTER TABLE "webhook_sources" ADD CONSTRAINT "webhook_sources_org_id_key" UNIQUE("org_id","id");--> statement-breakpoint
ALTER TABLE "webhook_source_deliveries" ADD CONSTRAINT "webhook_source_deliveries_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_source_deliveries" ADD CONSTRAINT "webhook_source_deliveries_source_fk" FOREIGN KEY ("org_id","source_id") REFERENCES "public"."webhook_sources"("org_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_source_items" ADD CONSTRAINT "webhook_source_items_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_source_items" ADD CONSTRAINT "webhook_source_items_source_fk" FOREIGN KEY ("org_id","source_id") REFERENCES "public"."webhook_sources"("org_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_source_deliveries_source_delivery_key" ON "webhook_source_deliveries" USING btree ("org_id","source_id","delivery_id") WHERE "webhook_source_deliveries"."delivery_id" is not null and "webhook_source_deliveries"."status" in ('accepted', 'applied', 'unmapped');--> statement-breakpoint
CREATE INDEX "webhook_source_deliveries_org_source_received_idx" ON "webhook_source_deliveries" USING btree ("org_id","source_id","received_at","id");--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_created_by_actor" CHECK ("api_keys"."created_by" is null or "api_keys"."created_by" ~ '^((usr|key|whs)_[0-7][0-9a-hjkmnp-tv-z]{25}|system)$');--> statement-breakpoint
ALTER TABLE "content" ADD CONSTRAINT "content_created_by_actor" CHECK ("content"."created_by" is null or "content"."created_by" ~ '^((usr|key|whs)_[0-7][0-9a-hjkmnp-tv-z]{25}|system)$');--> statement-breakpoint
ALTER TABLE "content" ADD CONSTRAINT "content_updated_by_actor" CHECK ("content"."updated_by" is null or "content"."updated_by" ~ '^((usr|key|whs)_[0-7][0-9a-hjkmnp-tv-z]{25}|system)$');--> statement-breakpoint
ALTER TABLE "content_versions" ADD CONSTRAINT "content_versions_created_by_actor" CHECK ("content_versions"."created_by" is null or "content_versions"."created_by" ~ '^((usr|key|whs)_[0-7][0-9a-hjkmnp-tv-z]{25}|system)$');--> statement-breakpoint
ALTER TABLE "operations" ADD CONSTRAINT "operations_created_by_actor" CHECK ("operations"."created_by" is null or "operations"."created_by" ~ '^((usr|key|whs)_[0-7][0-9a-hjkmnp-tv-z]{25}|system)$');--> statement-breakpoint
ALTER TABLE "synonyms" ADD CONSTRAINT "synonyms_created_by_actor" CHECK ("synonyms"."created_by" is null or "synonyms"."created_by" ~ '^((usr|key|whs)_[0-7][0-9a-hjkmnp-tv-z]{25}|system)$');--> statement-breakpoint
ALTER TABLE "webhook_sources" ADD CONSTRAINT "webhook_sources_failure_count" CHECK ("webhook_sources"."failure_count" >= 0);--> statement-breakpoint
ALTER TABLE "webhook_sources" ADD CONSTRAINT "webhook_sources_previous_secret" CHECK (("webhook_sources"."previous_secret_ciphertext" is null) = ("webhook_sources"."previous_secret_expires_at" is null));--> statement-breakpoint
ALTER TABLE "webhook_sources" ADD CONSTRAINT "webhook_sources_created_by_actor" CHECK ("webhook_sources"."created_by" is null or "webhook_sources"."created_by" ~ '^((usr|key|whs)_[0-7][0-9a-hjkmnp-tv-z]{25}|system)$');--> statement-breakpoint
ALTER TABLE "webhook_subscriptions" ADD CONSTRAINT "webhook_subscriptions_created_by_actor" CHECK ("webhook_subscriptions"."created_by" is null or "webhook_subscriptions"."created_by" ~ '^((usr|key|whs)_[0-7][0-9a-hjkmnp-tv-z]{25}|system)$');