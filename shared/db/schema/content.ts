import { type SQL, sql } from 'drizzle-orm';
import {
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  unique,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { newId } from '../../ids.ts';
import {
  actor,
  actorCheck,
  createdAt,
  deletedAt,
  timestamptz,
  tsvector,
  updatedAt,
} from './columns.ts';
import { organizations } from './tenancy.ts';
import { webhookSources } from './webhooks.ts';

/**
 * The editorial workflow: draft → in_review → approved → published → archived (and back to
 * draft). `approved` with a `publish_at` is "scheduled": a cron job publishes it when due.
 */
export const contentStatus = pgEnum('content_status', [
  'draft',
  'in_review',
  'approved',
  'published',
  'archived',
]);
export type ContentStatus = (typeof contentStatus.enumValues)[number];

/** A BCP 47 tag as Sift stores it: `en`, `ar`, `ar-EG`, `zh-Hant-TW`. */
const LOCALE_PATTERN = '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$';

/**
 * The text search configuration for a locale: Arabic and English get their stemmers, anything
 * else `simple` (lower-casing only). Queries must use the same configuration as the stored
 * `search` column, so the API builds `websearch_to_tsquery(config, q)` with this function.
 */
export function textSearchConfig(locale: string): 'arabic' | 'english' | 'simple' {
  const language = locale.split('-', 1)[0]?.toLowerCase();
  return language === 'ar' ? 'arabic' : language === 'en' ? 'english' : 'simple';
}

/**
 * The same choice in SQL, for the generated column. Each branch is a constant `regconfig`
 * (cast at parse time), which keeps the expression immutable as generated columns require; a
 * run-time `text::regconfig` cast would not be.
 */
const searchConfigSql = `(case split_part(lower(locale), '-', 1) when 'ar' then 'arabic'::regconfig when 'en' then 'english'::regconfig else 'simple'::regconfig end)`;

/** Names per locale: `{ "en": "Technology", "ar": "التقنية" }`. */
export type LocalizedText = Record<string, string>;

export const categories = pgTable(
  'categories',
  {
    id: text('id')
      .primaryKey()
      .$defaultFn(() => newId('category')),
    orgId: text('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    parentId: text('parent_id'),
    slug: text('slug').notNull(),
    names: jsonb('names').$type<LocalizedText>().notNull().default({}),
    descriptions: jsonb('descriptions').$type<LocalizedText>().notNull().default({}),
    /** Order among siblings in navigation. */
    position: integer('position').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: deletedAt(),
  },
  (t) => [
    uniqueIndex('categories_org_slug_key').on(t.orgId, t.slug).where(sql`${t.deletedAt} is null`),
    index('categories_org_parent_idx')
      .on(t.orgId, t.parentId, t.position)
      .where(sql`${t.deletedAt} is null`),
    unique('categories_org_id_key').on(t.orgId, t.id),
    // Parent in the same organisation. No cascade: categories are soft-deleted, and hard
    // deleting a parent with children should fail loudly.
    foreignKey({
      name: 'categories_parent_fk',
      columns: [t.orgId, t.parentId],
      foreignColumns: [t.orgId, t.id],
    }),
    check('categories_not_own_parent', sql`${t.parentId} is null or ${t.parentId} <> ${t.id}`),
    check('categories_names_object', sql`jsonb_typeof(${t.names}) = 'object'`),
    check('categories_descriptions_object', sql`jsonb_typeof(${t.descriptions}) = 'object'`),
  ],
);

/**
 * A content item: the locale-independent part (workflow, taxonomy, scheduling). Its text lives
 * in `content_translations`, one row per locale. `version` increases by one per accepted
 * mutation; the edge assigns it, and `If-Match` compares against it.
 */
export const content = pgTable(
  'content',
  {
    id: text('id')
      .primaryKey()
      .$defaultFn(() => newId('content')),
    orgId: text('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    status: contentStatus('status').notNull().default('draft'),
    version: integer('version').notNull().default(1),
    categoryId: text('category_id'),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    /** The locale to fall back to when a requested translation is missing. */
    defaultLocale: text('default_locale').notNull(),
    /** When an approved item is due to be published (scheduling). */
    publishAt: timestamptz('publish_at'),
    /** When a published item is due to be archived. */
    unpublishAt: timestamptz('unpublish_at'),
    /** When it was first published (kept through later edits and archiving). */
    publishedAt: timestamptz('published_at'),
    /** Set for items pushed in by an inbound webhook: which source, and the id it uses. */
    sourceId: text('source_id').references(() => webhookSources.id, { onDelete: 'set null' }),
    externalId: text('external_id'),
    /** Who created it and who changed it last (actor references). */
    createdBy: actor('created_by'),
    updatedBy: actor('updated_by'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: deletedAt(),
  },
  (t) => [
    // Lists page by (updated_at, id) descending, optionally filtered by status or category;
    // "updated since" is a range on the same key. Ascending on purpose, here and in every
    // index: scanned backwards it yields exactly `order by updated_at desc, id desc` (nulls
    // first, Postgres' default), while drizzle's `.desc()` emits DESC NULLS LAST, which that
    // ORDER BY cannot use without a sort.
    index('content_org_updated_idx')
      .on(t.orgId, t.updatedAt, t.id)
      .where(sql`${t.deletedAt} is null`),
    index('content_org_status_updated_idx')
      .on(t.orgId, t.status, t.updatedAt, t.id)
      .where(sql`${t.deletedAt} is null`),
    index('content_org_category_updated_idx')
      .on(t.orgId, t.categoryId, t.updatedAt, t.id)
      .where(sql`${t.deletedAt} is null`),
    // The public feed: published items, newest first.
    index('content_org_published_idx')
      .on(t.orgId, t.publishedAt, t.id)
      .where(sql`${t.status} = 'published' and ${t.deletedAt} is null`),
    // Tag filters (`tags @> array[$1]`). GIN cannot lead with org_id without the btree_gin
    // extension, which the local cloud's PGlite does not load; the planner ANDs this bitmap
    // with the org_id index above.
    index('content_tags_idx').using('gin', t.tags).where(sql`${t.deletedAt} is null`),
    // The scheduling cron scans every organisation for due items, so these lead with the time.
    index('content_publish_due_idx')
      .on(t.publishAt)
      .where(
        sql`${t.status} = 'approved' and ${t.publishAt} is not null and ${t.deletedAt} is null`,
      ),
    index('content_unpublish_due_idx')
      .on(t.unpublishAt)
      .where(
        sql`${t.status} = 'published' and ${t.unpublishAt} is not null and ${t.deletedAt} is null`,
      ),
    // Inbound webhooks upsert by the source's own id.
    uniqueIndex('content_org_source_external_key')
      .on(t.orgId, t.sourceId, t.externalId)
      .where(sql`${t.externalId} is not null`),
    unique('content_org_id_key').on(t.orgId, t.id),
    foreignKey({
      name: 'content_category_fk',
      columns: [t.orgId, t.categoryId],
      foreignColumns: [categories.orgId, categories.id],
    }),
    check('content_version_positive', sql`${t.version} >= 1`),
    check('content_default_locale_format', sql`${t.defaultLocale} ~ '${sql.raw(LOCALE_PATTERN)}'`),
    check('content_metadata_object', sql`jsonb_typeof(${t.metadata}) = 'object'`),
    check(
      'content_schedule_order',
      sql`${t.publishAt} is null or ${t.unpublishAt} is null or ${t.unpublishAt} > ${t.publishAt}`,
    ),
    check(
      'content_external_id_needs_source',
      sql`${t.externalId} is null or ${t.sourceId} is not null`,
    ),
    actorCheck('content_created_by_actor', t.createdBy),
    actorCheck('content_updated_by_actor', t.updatedBy),
  ],
);

/**
 * The text of a content item in one locale. `search` is computed by Postgres from title (A),
 * summary (B) and body (C) with the locale's text search configuration, so ranking favours a
 * match in the title. Translations are soft-deleted with their item (a trigger keeps them in
 * step), which frees their slugs.
 */
export const contentTranslations = pgTable(
  'content_translations',
  {
    contentId: text('content_id').notNull(),
    orgId: text('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    locale: text('locale').notNull(),
    title: text('title').notNull(),
    summary: text('summary'),
    body: text('body').notNull().default(''),
    slug: text('slug').notNull(),
    search: tsvector('search')
      .notNull()
      .generatedAlwaysAs(
        (): SQL =>
          sql.raw(
            `setweight(to_tsvector(${searchConfigSql}, title), 'A') || ` +
              `setweight(to_tsvector(${searchConfigSql}, coalesce(summary, '')), 'B') || ` +
              `setweight(to_tsvector(${searchConfigSql}, body), 'C')`,
          ),
      ),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: deletedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.contentId, t.locale] }),
    foreignKey({
      name: 'content_translations_content_fk',
      columns: [t.orgId, t.contentId],
      foreignColumns: [content.orgId, content.id],
    }).onDelete('cascade'),
    // Slug look-ups (`/content/by-slug/:locale/:slug`); a deleted item's slug can be reused.
    // Case-insensitive: `Solar` and `solar` are one slug (slugs are stored lower-cased; `lower`
    // also covers rows written before that). The "C" collation orders by code point, so a
    // slug's family (`solar`, `solar-2`, …) is one index range whatever the database's locale.
    uniqueIndex('content_translations_org_locale_slug_key')
      .on(t.orgId, t.locale, sql`(lower(${t.slug}) collate "C")`)
      .where(sql`${t.deletedAt} is null`),
    // "Items that have a translation in locale X" (list filter, locale fallback).
    index('content_translations_org_locale_idx')
      .on(t.orgId, t.locale, t.contentId)
      .where(sql`${t.deletedAt} is null`),
    // Full-text search; combined with org_id by a bitmap AND (see content_tags_idx).
    index('content_translations_search_idx').using('gin', t.search),
    check('content_translations_locale_format', sql`${t.locale} ~ '${sql.raw(LOCALE_PATTERN)}'`),
    check(
      'content_translations_slug_format',
      sql`char_length(${t.slug}) between 1 and 200 and ${t.slug} !~ '[[:space:]/?#%]' and ${t.slug} !~ '^-|-$'`,
    ),
    check('content_translations_title_present', sql`char_length(${t.title}) >= 1`),
  ],
);

/** The shape of `content_versions.snapshot`: the whole resource as the API returns it. */
export type ContentSnapshot = {
  id: string;
  org_id: string;
  status: ContentStatus;
  version: number;
  category_id: string | null;
  tags: string[];
  metadata: Record<string, unknown>;
  default_locale: string;
  publish_at: string | null;
  unpublish_at: string | null;
  published_at: string | null;
  created_by: string | null;
  updated_by: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  translations: Record<
    string,
    { title: string; summary: string | null; body: string; slug: string }
  >;
};

/**
 * Every accepted version of every item, written by the queue consumer. The primary key
 * (content_id, version) makes the write idempotent: a redelivered message inserts nothing
 * (`on conflict do nothing`).
 */
export const contentVersions = pgTable(
  'content_versions',
  {
    contentId: text('content_id').notNull(),
    version: integer('version').notNull(),
    orgId: text('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    snapshot: jsonb('snapshot').$type<ContentSnapshot>().notNull(),
    status: contentStatus('status').notNull(),
    /**
     * The operation that produced this version (null for seeds and imports). Not a foreign
     * key: the operation row may be written after the version, and operations are pruned.
     */
    operationId: text('operation_id'),
    /** Who made this version (an actor reference). */
    createdBy: actor('created_by'),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.contentId, t.version] }),
    foreignKey({
      name: 'content_versions_content_fk',
      columns: [t.orgId, t.contentId],
      foreignColumns: [content.orgId, content.id],
    }).onDelete('cascade'),
    check('content_versions_version_positive', sql`${t.version} >= 1`),
    actorCheck('content_versions_created_by_actor', t.createdBy),
  ],
);
