CREATE TYPE "public"."audit_actor_type" AS ENUM('user', 'api_key', 'system');--> statement-breakpoint
CREATE TYPE "public"."session_event_kind" AS ENUM('created', 'refreshed', 'revoked', 'reuse_detected', 'expired');--> statement-breakpoint
CREATE TYPE "public"."content_status" AS ENUM('draft', 'in_review', 'approved', 'published', 'archived');--> statement-breakpoint
CREATE TYPE "public"."operation_status" AS ENUM('queued', 'running', 'applied', 'failed');--> statement-breakpoint
CREATE TYPE "public"."synonym_kind" AS ENUM('one_way', 'multi_way');--> statement-breakpoint
CREATE TYPE "public"."membership_role" AS ENUM('owner', 'admin', 'editor', 'author', 'viewer');--> statement-breakpoint
CREATE TYPE "public"."webhook_delivery_status" AS ENUM('pending', 'delivered', 'failed');--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text,
	"actor_type" "audit_actor_type" NOT NULL,
	"actor_id" text,
	"action" text NOT NULL,
	"target_type" text,
	"target_id" text,
	"ip" "inet",
	"user_agent" text,
	"request_id" text,
	"trace_id" text,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "audit_log_actor_id_present" CHECK (("audit_log"."actor_type" = 'system') or "audit_log"."actor_id" is not null),
	CONSTRAINT "audit_log_data_object" CHECK (jsonb_typeof("audit_log"."data") = 'object')
);
--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"name" text NOT NULL,
	"prefix" text NOT NULL,
	"hash" text NOT NULL,
	"scopes" text[] DEFAULT '{}'::text[] NOT NULL,
	"rate_limit" integer,
	"rate_limit_window_seconds" integer,
	"expires_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"replaced_by" text,
	"grace_until" timestamp with time zone,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "api_keys_org_id_key" UNIQUE("org_id","id"),
	CONSTRAINT "api_keys_hash_format" CHECK ("api_keys"."hash" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "api_keys_rate_limit_pair" CHECK (("api_keys"."rate_limit" is null and "api_keys"."rate_limit_window_seconds" is null) or ("api_keys"."rate_limit" > 0 and "api_keys"."rate_limit_window_seconds" > 0)),
	CONSTRAINT "api_keys_grace_needs_successor" CHECK ("api_keys"."grace_until" is null or "api_keys"."replaced_by" is not null),
	CONSTRAINT "api_keys_not_self_replaced" CHECK ("api_keys"."replaced_by" is null or "api_keys"."replaced_by" <> "api_keys"."id")
);
--> statement-breakpoint
CREATE TABLE "session_events" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"session_id" text NOT NULL,
	"family_id" text NOT NULL,
	"kind" "session_event_kind" NOT NULL,
	"ip" "inet",
	"user_agent" text,
	"device" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "categories" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"parent_id" text,
	"slug" text NOT NULL,
	"names" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"descriptions" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"position" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "categories_org_id_key" UNIQUE("org_id","id"),
	CONSTRAINT "categories_not_own_parent" CHECK ("categories"."parent_id" is null or "categories"."parent_id" <> "categories"."id"),
	CONSTRAINT "categories_names_object" CHECK (jsonb_typeof("categories"."names") = 'object'),
	CONSTRAINT "categories_descriptions_object" CHECK (jsonb_typeof("categories"."descriptions") = 'object')
);
--> statement-breakpoint
CREATE TABLE "content" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"status" "content_status" DEFAULT 'draft' NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"category_id" text,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"default_locale" text NOT NULL,
	"publish_at" timestamp with time zone,
	"unpublish_at" timestamp with time zone,
	"published_at" timestamp with time zone,
	"source_id" text,
	"external_id" text,
	"created_by" text,
	"updated_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "content_org_id_key" UNIQUE("org_id","id"),
	CONSTRAINT "content_version_positive" CHECK ("content"."version" >= 1),
	CONSTRAINT "content_default_locale_format" CHECK ("content"."default_locale" ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'),
	CONSTRAINT "content_metadata_object" CHECK (jsonb_typeof("content"."metadata") = 'object'),
	CONSTRAINT "content_schedule_order" CHECK ("content"."publish_at" is null or "content"."unpublish_at" is null or "content"."unpublish_at" > "content"."publish_at"),
	CONSTRAINT "content_external_id_needs_source" CHECK ("content"."external_id" is null or "content"."source_id" is not null)
);
--> statement-breakpoint
CREATE TABLE "content_translations" (
	"content_id" text NOT NULL,
	"org_id" text NOT NULL,
	"locale" text NOT NULL,
	"title" text NOT NULL,
	"summary" text,
	"body" text DEFAULT '' NOT NULL,
	"slug" text NOT NULL,
	"search" "tsvector" GENERATED ALWAYS AS (setweight(to_tsvector((case split_part(lower(locale), '-', 1) when 'ar' then 'arabic'::regconfig when 'en' then 'english'::regconfig else 'simple'::regconfig end), title), 'A') || setweight(to_tsvector((case split_part(lower(locale), '-', 1) when 'ar' then 'arabic'::regconfig when 'en' then 'english'::regconfig else 'simple'::regconfig end), coalesce(summary, '')), 'B') || setweight(to_tsvector((case split_part(lower(locale), '-', 1) when 'ar' then 'arabic'::regconfig when 'en' then 'english'::regconfig else 'simple'::regconfig end), body), 'C')) STORED NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "content_translations_content_id_locale_pk" PRIMARY KEY("content_id","locale"),
	CONSTRAINT "content_translations_locale_format" CHECK ("content_translations"."locale" ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'),
	CONSTRAINT "content_translations_slug_format" CHECK (char_length("content_translations"."slug") between 1 and 200 and "content_translations"."slug" !~ '[[:space:]/?#%]' and "content_translations"."slug" !~ '^-|-$'),
	CONSTRAINT "content_translations_title_present" CHECK (char_length("content_translations"."title") >= 1)
);
--> statement-breakpoint
CREATE TABLE "content_versions" (
	"content_id" text NOT NULL,
	"version" integer NOT NULL,
	"org_id" text NOT NULL,
	"snapshot" jsonb NOT NULL,
	"status" "content_status" NOT NULL,
	"operation_id" text,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "content_versions_content_id_version_pk" PRIMARY KEY("content_id","version"),
	CONSTRAINT "content_versions_version_positive" CHECK ("content_versions"."version" >= 1)
);
--> statement-breakpoint
CREATE TABLE "dead_letters" (
	"id" text PRIMARY KEY NOT NULL,
	"queue" text NOT NULL,
	"message_id" text NOT NULL,
	"body" jsonb,
	"reason" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"failed_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"replayed_at" timestamp with time zone,
	"replayed_by" text
);
--> statement-breakpoint
CREATE TABLE "idempotency_records" (
	"org_id" text NOT NULL,
	"key" text NOT NULL,
	"request_fingerprint" text NOT NULL,
	"response_status" integer,
	"response_headers" jsonb,
	"response_body" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "idempotency_records_org_id_key_pk" PRIMARY KEY("org_id","key"),
	CONSTRAINT "idempotency_records_key_length" CHECK (char_length("idempotency_records"."key") between 1 and 255),
	CONSTRAINT "idempotency_records_expiry_after_creation" CHECK ("idempotency_records"."expires_at" > "idempotency_records"."created_at")
);
--> statement-breakpoint
CREATE TABLE "operations" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"kind" text NOT NULL,
	"status" "operation_status" DEFAULT 'queued' NOT NULL,
	"resource_type" text,
	"resource_id" text,
	"progress" jsonb,
	"error" jsonb,
	"request_id" text,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	CONSTRAINT "operations_completed_when_final" CHECK (("operations"."status" in ('applied', 'failed')) = ("operations"."completed_at" is not null)),
	CONSTRAINT "operations_error_only_when_failed" CHECK ("operations"."error" is null or "operations"."status" = 'failed')
);
--> statement-breakpoint
CREATE TABLE "synonyms" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"locale" text NOT NULL,
	"kind" "synonym_kind" NOT NULL,
	"root" text,
	"terms" text[] NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "synonyms_root_matches_kind" CHECK (("synonyms"."kind" = 'one_way') = ("synonyms"."root" is not null)),
	CONSTRAINT "synonyms_terms_count" CHECK (cardinality("synonyms"."terms") >= case "synonyms"."kind" when 'multi_way' then 2 else 1 end)
);
--> statement-breakpoint
CREATE TABLE "invitations" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"email" text NOT NULL,
	"role" "membership_role" NOT NULL,
	"token_hash" text NOT NULL,
	"invited_by" text,
	"expires_at" timestamp with time zone NOT NULL,
	"accepted_at" timestamp with time zone,
	"accepted_by" text,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "invitations_token_hash_format" CHECK ("invitations"."token_hash" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "invitations_closed_once" CHECK ("invitations"."accepted_at" is null or "invitations"."revoked_at" is null)
);
--> statement-breakpoint
CREATE TABLE "memberships" (
	"org_id" text NOT NULL,
	"user_id" text NOT NULL,
	"role" "membership_role" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "memberships_org_id_user_id_pk" PRIMARY KEY("org_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "organizations" (
	"id" text PRIMARY KEY NOT NULL,
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"default_locale" text DEFAULT 'en' NOT NULL,
	"locales" text[] DEFAULT '{en,ar}'::text[] NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "organizations_slug_format" CHECK ("organizations"."slug" ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
	CONSTRAINT "organizations_settings_object" CHECK (jsonb_typeof("organizations"."settings") = 'object')
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" text PRIMARY KEY NOT NULL,
	"email" text NOT NULL,
	"name" text,
	"password_hash" text,
	"is_super_admin" boolean DEFAULT false NOT NULL,
	"locale" text,
	"email_verified_at" timestamp with time zone,
	"disabled_at" timestamp with time zone,
	"last_login_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_email_format" CHECK ("users"."email" ~ '^[^@[:space:]]+@[^@[:space:]]+$')
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"subscription_id" text NOT NULL,
	"event_type" text NOT NULL,
	"event_id" text NOT NULL,
	"payload" jsonb NOT NULL,
	"status" "webhook_delivery_status" DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_status_code" integer,
	"last_error" text,
	"next_attempt_at" timestamp with time zone,
	"qstash_message_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone,
	CONSTRAINT "webhook_deliveries_attempts" CHECK ("webhook_deliveries"."attempts" >= 0),
	CONSTRAINT "webhook_deliveries_delivered_at" CHECK (("webhook_deliveries"."status" = 'delivered') = ("webhook_deliveries"."delivered_at" is not null))
);
--> statement-breakpoint
CREATE TABLE "webhook_sources" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"secret_ciphertext" text NOT NULL,
	"config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"last_received_at" timestamp with time zone,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"disabled_at" timestamp with time zone,
	CONSTRAINT "webhook_sources_config_object" CHECK (jsonb_typeof("webhook_sources"."config") = 'object')
);
--> statement-breakpoint
CREATE TABLE "webhook_subscriptions" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"url" text NOT NULL,
	"description" text,
	"event_types" text[] NOT NULL,
	"secret_ciphertext" text NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"failure_count" integer DEFAULT 0 NOT NULL,
	"disabled_at" timestamp with time zone,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_subscriptions_org_id_key" UNIQUE("org_id","id"),
	CONSTRAINT "webhook_subscriptions_url_scheme" CHECK ("webhook_subscriptions"."url" ~ '^https?://'),
	CONSTRAINT "webhook_subscriptions_event_types_present" CHECK (cardinality("webhook_subscriptions"."event_types") >= 1),
	CONSTRAINT "webhook_subscriptions_failure_count" CHECK ("webhook_subscriptions"."failure_count" >= 0)
);
--> statement-breakpoint
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_replaced_by_fk" FOREIGN KEY ("org_id","replaced_by") REFERENCES "public"."api_keys"("org_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "session_events" ADD CONSTRAINT "session_events_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "categories" ADD CONSTRAINT "categories_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "categories" ADD CONSTRAINT "categories_parent_fk" FOREIGN KEY ("org_id","parent_id") REFERENCES "public"."categories"("org_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "content" ADD CONSTRAINT "content_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "content" ADD CONSTRAINT "content_source_id_webhook_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."webhook_sources"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "content" ADD CONSTRAINT "content_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "content" ADD CONSTRAINT "content_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "content" ADD CONSTRAINT "content_category_fk" FOREIGN KEY ("org_id","category_id") REFERENCES "public"."categories"("org_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "content_translations" ADD CONSTRAINT "content_translations_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "content_translations" ADD CONSTRAINT "content_translations_content_fk" FOREIGN KEY ("org_id","content_id") REFERENCES "public"."content"("org_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "content_versions" ADD CONSTRAINT "content_versions_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "content_versions" ADD CONSTRAINT "content_versions_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "content_versions" ADD CONSTRAINT "content_versions_content_fk" FOREIGN KEY ("org_id","content_id") REFERENCES "public"."content"("org_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dead_letters" ADD CONSTRAINT "dead_letters_replayed_by_users_id_fk" FOREIGN KEY ("replayed_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "idempotency_records" ADD CONSTRAINT "idempotency_records_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "operations" ADD CONSTRAINT "operations_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "operations" ADD CONSTRAINT "operations_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "synonyms" ADD CONSTRAINT "synonyms_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "synonyms" ADD CONSTRAINT "synonyms_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invitations" ADD CONSTRAINT "invitations_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invitations" ADD CONSTRAINT "invitations_invited_by_users_id_fk" FOREIGN KEY ("invited_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invitations" ADD CONSTRAINT "invitations_accepted_by_users_id_fk" FOREIGN KEY ("accepted_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_subscription_fk" FOREIGN KEY ("org_id","subscription_id") REFERENCES "public"."webhook_subscriptions"("org_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_sources" ADD CONSTRAINT "webhook_sources_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_sources" ADD CONSTRAINT "webhook_sources_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_subscriptions" ADD CONSTRAINT "webhook_subscriptions_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_subscriptions" ADD CONSTRAINT "webhook_subscriptions_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_org_created_idx" ON "audit_log" USING btree ("org_id","created_at","id");--> statement-breakpoint
CREATE INDEX "audit_log_org_action_created_idx" ON "audit_log" USING btree ("org_id","action","created_at","id");--> statement-breakpoint
CREATE INDEX "audit_log_org_actor_created_idx" ON "audit_log" USING btree ("org_id","actor_type","actor_id","created_at","id");--> statement-breakpoint
CREATE INDEX "audit_log_org_target_created_idx" ON "audit_log" USING btree ("org_id","target_type","target_id","created_at","id") WHERE "audit_log"."target_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_hash_key" ON "api_keys" USING btree ("hash");--> statement-breakpoint
CREATE INDEX "api_keys_org_created_idx" ON "api_keys" USING btree ("org_id","created_at","id");--> statement-breakpoint
CREATE INDEX "session_events_user_created_idx" ON "session_events" USING btree ("user_id","created_at","id");--> statement-breakpoint
CREATE INDEX "session_events_family_idx" ON "session_events" USING btree ("family_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "categories_org_slug_key" ON "categories" USING btree ("org_id","slug") WHERE "categories"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "categories_org_parent_idx" ON "categories" USING btree ("org_id","parent_id","position") WHERE "categories"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "content_org_updated_idx" ON "content" USING btree ("org_id","updated_at","id") WHERE "content"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "content_org_status_updated_idx" ON "content" USING btree ("org_id","status","updated_at","id") WHERE "content"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "content_org_category_updated_idx" ON "content" USING btree ("org_id","category_id","updated_at","id") WHERE "content"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "content_org_published_idx" ON "content" USING btree ("org_id","published_at","id") WHERE "content"."status" = 'published' and "content"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "content_tags_idx" ON "content" USING gin ("tags") WHERE "content"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "content_publish_due_idx" ON "content" USING btree ("publish_at") WHERE "content"."status" = 'approved' and "content"."publish_at" is not null and "content"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "content_unpublish_due_idx" ON "content" USING btree ("unpublish_at") WHERE "content"."status" = 'published' and "content"."unpublish_at" is not null and "content"."deleted_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "content_org_source_external_key" ON "content" USING btree ("org_id","source_id","external_id") WHERE "content"."external_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "content_translations_org_locale_slug_key" ON "content_translations" USING btree ("org_id","locale","slug") WHERE "content_translations"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "content_translations_org_locale_idx" ON "content_translations" USING btree ("org_id","locale","content_id") WHERE "content_translations"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "content_translations_search_idx" ON "content_translations" USING gin ("search");--> statement-breakpoint
CREATE UNIQUE INDEX "dead_letters_queue_message_key" ON "dead_letters" USING btree ("queue","message_id");--> statement-breakpoint
CREATE INDEX "dead_letters_open_failed_idx" ON "dead_letters" USING btree ("queue","failed_at") WHERE "dead_letters"."replayed_at" is null;--> statement-breakpoint
CREATE INDEX "idempotency_records_expires_idx" ON "idempotency_records" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "operations_org_created_idx" ON "operations" USING btree ("org_id","created_at","id");--> statement-breakpoint
CREATE INDEX "operations_org_resource_idx" ON "operations" USING btree ("org_id","resource_type","resource_id","created_at") WHERE "operations"."resource_id" is not null;--> statement-breakpoint
CREATE INDEX "synonyms_org_locale_idx" ON "synonyms" USING btree ("org_id","locale","id");--> statement-breakpoint
CREATE UNIQUE INDEX "invitations_token_hash_key" ON "invitations" USING btree ("token_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "invitations_org_email_open_key" ON "invitations" USING btree ("org_id",lower("email")) WHERE "invitations"."accepted_at" is null and "invitations"."revoked_at" is null;--> statement-breakpoint
CREATE INDEX "invitations_org_created_idx" ON "invitations" USING btree ("org_id","created_at");--> statement-breakpoint
CREATE INDEX "memberships_user_idx" ON "memberships" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "memberships_org_role_idx" ON "memberships" USING btree ("org_id","role");--> statement-breakpoint
CREATE UNIQUE INDEX "organizations_slug_key" ON "organizations" USING btree ("slug");--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_key" ON "users" USING btree (lower("email"));--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_deliveries_subscription_event_key" ON "webhook_deliveries" USING btree ("org_id","subscription_id","event_id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_org_subscription_created_idx" ON "webhook_deliveries" USING btree ("org_id","subscription_id","created_at","id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_status_next_attempt_idx" ON "webhook_deliveries" USING btree ("status","next_attempt_at") WHERE "webhook_deliveries"."next_attempt_at" is not null;--> statement-breakpoint
CREATE INDEX "webhook_sources_org_created_idx" ON "webhook_sources" USING btree ("org_id","created_at","id");--> statement-breakpoint
CREATE INDEX "webhook_subscriptions_org_created_idx" ON "webhook_subscriptions" USING btree ("org_id","created_at","id");--> statement-breakpoint
CREATE INDEX "webhook_subscriptions_org_active_idx" ON "webhook_subscriptions" USING btree ("org_id") WHERE "webhook_subscriptions"."active" and "webhook_subscriptions"."disabled_at" is null;