-- Rules drizzle-kit cannot express, enforced by the database so that every writer (API,
-- queue consumers, cron jobs, psql) obeys them.

-- The audit trail is append-only. DELETE stays allowed: retention pruning and organisation
-- purges (ON DELETE CASCADE) need it.
CREATE OR REPLACE FUNCTION "audit_log_reject_update"()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only: entries cannot be changed'
		USING ERRCODE = 'integrity_constraint_violation';
END
$$;
--> statement-breakpoint
CREATE TRIGGER "audit_log_append_only"
	BEFORE UPDATE ON "audit_log"
	FOR EACH ROW EXECUTE FUNCTION "audit_log_reject_update"();
--> statement-breakpoint
-- Soft-deleting a content item soft-deletes its translations at the same instant, which frees
-- their slugs (the slug key only covers live rows); restoring the item restores the
-- translations deleted with it (same deleted_at) and no others. A restore whose slug was
-- taken in the meantime fails on the slug key, as it should.
CREATE OR REPLACE FUNCTION "content_sync_translation_deletion"()
RETURNS trigger
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
	IF NEW.deleted_at IS NOT NULL AND OLD.deleted_at IS NULL THEN
		UPDATE content_translations SET deleted_at = NEW.deleted_at
		WHERE org_id = NEW.org_id AND content_id = NEW.id AND deleted_at IS NULL;
	ELSIF NEW.deleted_at IS NULL AND OLD.deleted_at IS NOT NULL THEN
		UPDATE content_translations SET deleted_at = NULL
		WHERE org_id = NEW.org_id AND content_id = NEW.id AND deleted_at = OLD.deleted_at;
	END IF;
	RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "content_sync_translation_deletion"
	AFTER UPDATE OF "deleted_at" ON "content"
	FOR EACH ROW
	WHEN (OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
	EXECUTE FUNCTION "content_sync_translation_deletion"();
