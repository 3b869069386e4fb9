ALTER TABLE "api_keys" DROP CONSTRAINT "api_keys_created_by_users_id_fk";
--> statement-breakpoint
ALTER TABLE "content" DROP CONSTRAINT "content_created_by_users_id_fk";
--> statement-breakpoint
ALTER TABLE "content" DROP CONSTRAINT "content_updated_by_users_id_fk";
--> statement-breakpoint
ALTER TABLE "content_versions" DROP CONSTRAINT "content_versions_created_by_users_id_fk";
--> statement-breakpoint
ALTER TABLE "operations" DROP CONSTRAINT "operations_created_by_users_id_fk";
--> statement-breakpoint
ALTER TABLE "synonyms" DROP CONSTRAINT "synonyms_created_by_users_id_fk";
--> statement-breakpoint
ALTER TABLE "webhook_sources" DROP CONSTRAINT "webhook_sources_created_by_users_id_fk";
--> statement-breakpoint
ALTER TABLE "webhook_subscriptions" DROP CONSTRAINT "webhook_subscriptions_created_by_users_id_fk";
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_created_by_actor" CHECK ("api_keys"."created_by" is null or "api_keys"."created_by" ~ '^((usr|key)_[0-7][0-9a-hjkmnp-tv-z]{25}|system)$');--> statement-breakpoint
ALTER TABLE "content" ADD CONSTRAINT "content_created_by_actor" CHECK ("content"."created_by" is null or "content"."created_by" ~ '^((usr|key)_[0-7][0-9a-hjkmnp-tv-z]{25}|system)$');--> statement-breakpoint
ALTER TABLE "content" ADD CONSTRAINT "content_updated_by_actor" CHECK ("content"."updated_by" is null or "content"."updated_by" ~ '^((usr|key)_[0-7][0-9a-hjkmnp-tv-z]{25}|system)$');--> statement-breakpoint
ALTER TABLE "content_versions" ADD CONSTRAINT "content_versions_created_by_actor" CHECK ("content_versions"."created_by" is null or "content_versions"."created_by" ~ '^((usr|key)_[0-7][0-9a-hjkmnp-tv-z]{25}|system)$');--> statement-breakpoint
ALTER TABLE "operations" ADD CONSTRAINT "operations_created_by_actor" CHECK ("operations"."created_by" is null or "operations"."created_by" ~ '^((usr|key)_[0-7][0-9a-hjkmnp-tv-z]{25}|system)$');--> statement-breakpoint
ALTER TABLE "synonyms" ADD CONSTRAINT "synonyms_created_by_actor" CHECK ("synonyms"."created_by" is null or "synonyms"."created_by" ~ '^((usr|key)_[0-7][0-9a-hjkmnp-tv-z]{25}|system)$');--> statement-breakpoint
ALTER TABLE "webhook_sources" ADD CONSTRAINT "webhook_sources_created_by_actor" CHECK ("webhook_sources"."created_by" is null or "webhook_sources"."created_by" ~ '^((usr|key)_[0-7][0-9a-hjkmnp-tv-z]{25}|system)$');--> statement-breakpoint
ALTER TABLE "webhook_subscriptions" ADD CONSTRAINT "webhook_subscriptions_created_by_actor" CHECK ("webhook_subscriptions"."created_by" is null or "webhook_subscriptions"."created_by" ~ '^((usr|key)_[0-7][0-9a-hjkmnp-tv-z]{25}|system)$');--> statement-breakpoint
-- Writes made with an API key recorded no actor where a user id was required; the snapshots and
-- the audit log kept who it was. Recover it (never overwriting an actor already recorded).
UPDATE "content_versions" SET "created_by" = "snapshot"->>'updated_by'
  WHERE "created_by" IS NULL AND "snapshot"->>'updated_by' ~ '^key_[0-7][0-9a-hjkmnp-tv-z]{25}$';--> statement-breakpoint
UPDATE "content" AS c SET "created_by" = v."snapshot"->>'created_by'
  FROM "content_versions" AS v
  WHERE v."content_id" = c."id" AND v."version" = c."version" AND c."created_by" IS NULL
    AND v."snapshot"->>'created_by' ~ '^key_[0-7][0-9a-hjkmnp-tv-z]{25}$';--> statement-breakpoint
UPDATE "content" AS c SET "updated_by" = v."snapshot"->>'updated_by'
  FROM "content_versions" AS v
  WHERE v."content_id" = c."id" AND v."version" = c."version" AND c."updated_by" IS NULL
    AND v."snapshot"->>'updated_by' ~ '^key_[0-7][0-9a-hjkmnp-tv-z]{25}$';--> statement-breakpoint
UPDATE "operations" AS o SET "created_by" = v."created_by"
  FROM "content_versions" AS v
  WHERE v."operation_id" = o."id" AND v."org_id" = o."org_id" AND o."created_by" IS NULL
    AND v."created_by" IS NOT NULL;--> statement-breakpoint
UPDATE "operations" AS o SET "created_by" = a."actor_id"
  FROM "audit_log" AS a
  WHERE a."org_id" = o."org_id" AND a."action" = 'search.reindex' AND a."target_id" = o."id"
    AND a."actor_type" = 'api_key' AND o."created_by" IS NULL;--> statement-breakpoint
UPDATE "synonyms" AS s SET "created_by" = a."actor_id"
  FROM "audit_log" AS a
  WHERE a."org_id" = s."org_id" AND a."action" = 'search.synonyms.create' AND a."target_id" = s."id"
    AND a."actor_type" = 'api_key' AND s."created_by" IS NULL;--> statement-breakpoint
UPDATE "api_keys" AS k SET "created_by" = a."actor_id"
  FROM "audit_log" AS a
  WHERE a."org_id" = k."org_id" AND a."actor_type" = 'api_key' AND k."created_by" IS NULL
    AND ((a."action" = 'api_key.create' AND a."target_id" = k."id")
      OR (a."action" = 'api_key.roll' AND a."data"->>'new_key_id' = k."id"));
