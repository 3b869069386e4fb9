-- Slugs become case-insensitive (one unique index on lower(slug)). Organisations with two live
-- slugs differing only in case in one locale make the index fail: find them with
--   select org_id, locale, lower(slug) from content_translations where deleted_at is null
--   group by 1, 2, 3 having count(*) > 1;
-- and give one of each pair another slug first.
DROP INDEX "content_translations_org_locale_slug_key";--> statement-breakpoint
CREATE UNIQUE INDEX "content_translations_org_locale_slug_key" ON "content_translations" USING btree ("org_id","locale",(lower("slug") collate "C")) WHERE "content_translations"."deleted_at" is null;