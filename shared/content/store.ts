import { and, eq, inArray, isNull, or, type SQL, sql } from 'drizzle-orm';
import type { HttpDatabase } from '../db/client.ts';
import {
  type ContentSnapshot,
  content,
  contentTranslations,
  contentVersions,
} from '../db/schema/content.ts';
import type { Services } from '../services.ts';
import { languageOf, parentLocales } from './locales.ts';
import { foldSlug, inSlugFamily, type SlugFamily } from './slug.ts';

/**
 * Reading content as snapshots (the shape of `content_versions.snapshot`, `ContentSnapshotSchema`)
 * from Postgres, and the Redis version pointer that tells a reader which cached version is
 * current. Every query and key is scoped by organisation.
 */

type ContentRow = typeof content.$inferSelect;
type TranslationRow = Pick<
  typeof contentTranslations.$inferSelect,
  'contentId' | 'locale' | 'title' | 'summary' | 'body' | 'slug'
>;

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** The snapshot of an item row and its translation rows. */
export function snapshotOf(
  row: ContentRow,
  translations: readonly TranslationRow[],
): ContentSnapshot {
  const byLocale: ContentSnapshot['translations'] = {};
  for (const t of [...translations].sort((a, b) => (a.locale < b.locale ? -1 : 1))) {
    byLocale[t.locale] = { title: t.title, summary: t.summary, body: t.body, slug: t.slug };
  }
  return {
    id: row.id,
    org_id: row.orgId,
    status: row.status,
    version: row.version,
    category_id: row.categoryId,
    tags: row.tags,
    metadata: row.metadata,
    default_locale: row.defaultLocale,
    publish_at: iso(row.publishAt),
    unpublish_at: iso(row.unpublishAt),
    published_at: iso(row.publishedAt),
    created_by: row.createdBy,
    updated_by: row.updatedBy,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    deleted_at: iso(row.deletedAt),
    translations: byLocale,
  };
}

/**
 * The current snapshots of `ids` in organisation `orgId`, keyed by id: two queries (the items,
 * then their translations that are not deleted), whatever the number of ids. Soft-deleted items
 * are absent unless `includeDeleted` (then their last recorded version is read, a third query);
 * other organisations' items and unknown ids are simply absent from the map. Throws what the
 * driver throws (Postgres down): wrap the call in `services.guard('postgres', ...)`.
 */
export async function loadSnapshots(
  db: HttpDatabase,
  orgId: string,
  ids: string[],
  { includeDeleted = false }: { includeDeleted?: boolean } = {},
): Promise<Map<string, ContentSnapshot>> {
  const snapshots = new Map<string, ContentSnapshot>();
  const unique = [...new Set(ids)];
  if (unique.length === 0) return snapshots;
  const rows = await db
    .select()
    .from(content)
    .where(
      and(
        eq(content.orgId, orgId),
        inArray(content.id, unique),
        includeDeleted ? undefined : isNull(content.deletedAt),
      ),
    );
  if (rows.length === 0) return snapshots;
  const translations = await db
    .select({
      contentId: contentTranslations.contentId,
      locale: contentTranslations.locale,
      title: contentTranslations.title,
      summary: contentTranslations.summary,
      body: contentTranslations.body,
      slug: contentTranslations.slug,
    })
    .from(contentTranslations)
    .where(
      and(
        eq(contentTranslations.orgId, orgId),
        inArray(
          contentTranslations.contentId,
          rows.map((r) => r.id),
        ),
        isNull(contentTranslations.deletedAt),
      ),
    );
  const grouped = new Map<string, TranslationRow[]>();
  for (const t of translations) {
    const list = grouped.get(t.contentId) ?? [];
    list.push(t);
    grouped.set(t.contentId, list);
  }
  for (const row of rows) snapshots.set(row.id, snapshotOf(row, grouped.get(row.id) ?? []));
  const deleted = rows.filter((row) => row.deletedAt !== null);
  if (deleted.length > 0) {
    // A deleted item's translations are deleted with it: its last version holds them.
    const versions = await db
      .select({ snapshot: contentVersions.snapshot })
      .from(contentVersions)
      .where(
        and(
          eq(contentVersions.orgId, orgId),
          or(
            ...deleted.map((row) =>
              and(eq(contentVersions.contentId, row.id), eq(contentVersions.version, row.version)),
            ),
          ),
        ),
      );
    for (const { snapshot } of versions) snapshots.set(snapshot.id, snapshot);
  }
  return snapshots;
}

/** A slug as the unique index compares it: lower-cased, in code-point order. */
const foldedSlug = sql<string>`(lower(${contentTranslations.slug}) collate "C")`;

/**
 * The item of `orgId` with a live translation whose slug is `slug` (case-insensitively), in the
 * first locale of `locale`'s fallback chain that has one: the locale itself, then its parents
 * (`ar-EG` → `ar`), then another variant of its language (`ar-SA`, the first in code-point
 * order), as reads by id fall back (`resolveLocale`). Undefined when none has it. Deleted
 * translations (and so deleted items) do not match. One index look-up, a second only when
 * neither the locale nor its parents have the slug.
 */
export async function findIdBySlug(
  db: HttpDatabase,
  orgId: string,
  locale: string,
  slug: string,
): Promise<{ id: string; locale: string } | undefined> {
  const chain = [locale, ...parentLocales(locale)];
  const where = (byLocale: SQL) =>
    and(
      eq(contentTranslations.orgId, orgId),
      byLocale,
      sql`${foldedSlug} = (${foldSlug(slug)}::text collate "C")`,
      isNull(contentTranslations.deletedAt),
    );
  const select = (byLocale: SQL) =>
    db
      .select({ id: contentTranslations.contentId, locale: contentTranslations.locale })
      .from(contentTranslations)
      .where(where(byLocale));
  const direct = await select(inArray(contentTranslations.locale, chain));
  const best = chain.map((l) => direct.find((row) => row.locale === l)).find(Boolean);
  if (best) return best;
  const language = languageOf(locale);
  const siblings = await select(
    sql`split_part(${contentTranslations.locale}, '-', 1) = ${language}`,
  );
  return siblings.sort((a, b) => (a.locale < b.locale ? -1 : a.locale > b.locale ? 1 : 0))[0];
}

/**
 * The live slugs of `orgId` in the given families (folded, with the item each belongs to), in
 * one query whatever their number: each family is one range of the slug index (`base` up to
 * `base.`, in code-point order), filtered to `base` and `base-<digits>`. What `uniqueSlug` needs
 * to pick a free slug in one round trip.
 */
export async function slugFamilies(
  db: HttpDatabase,
  orgId: string,
  families: readonly SlugFamily[],
): Promise<{ id: string; locale: string; slug: string }[]> {
  if (families.length === 0) return [];
  const ranges = families.map(({ locale, base }) => {
    const folded = foldSlug(base);
    return and(
      eq(contentTranslations.locale, locale),
      sql`${foldedSlug} >= (${folded}::text collate "C")`,
      sql`${foldedSlug} < (${`${folded}.`}::text collate "C")`,
    );
  });
  const rows = await db
    .select({
      id: contentTranslations.contentId,
      locale: contentTranslations.locale,
      slug: sql<string>`lower(${contentTranslations.slug})`,
    })
    .from(contentTranslations)
    .where(
      and(
        eq(contentTranslations.orgId, orgId),
        isNull(contentTranslations.deletedAt),
        or(...ranges),
      ),
    );
  return rows.filter((row) =>
    families.some((f) => f.locale === row.locale && inSlugFamily(row.slug, f.base)),
  );
}

/** How long a version pointer lives unless rewritten: 24 h, `contentDetails`' stale time. */
export const VERSION_POINTER_TTL_MS = 24 * 60 * 60 * 1_000;

/** The Redis key of an item's current version: `content:v1:<org>:<id>:version`. */
export function versionPointerKey(orgId: string, id: string): string {
  return `content:v1:${encodeURIComponent(orgId)}:${encodeURIComponent(id)}:version`;
}

type PointerServices = Pick<Services, 'redis' | 'guard' | 'logger'>;

/**
 * The current version of item `id` of `orgId` as Redis knows it, or undefined when there is no
 * pointer, it is not a positive integer, or Redis is unavailable (logged, never thrown: the
 * reader then goes to Postgres).
 */
export async function readVersionPointer(
  services: PointerServices,
  orgId: string,
  id: string,
): Promise<number | undefined> {
  try {
    const raw = await services.guard('redis', () =>
      services.redis.get<unknown>(versionPointerKey(orgId, id)),
    );
    const version = typeof raw === 'string' ? Number(raw) : raw;
    return typeof version === 'number' && Number.isSafeInteger(version) && version >= 1
      ? version
      : undefined;
  } catch (error) {
    services.logger.warn('content version pointer unreadable; reading Postgres', {
      orgId,
      id,
      error,
    });
    return undefined;
  }
}

/**
 * Sets item `id`'s version pointer to `version` for `ttlMs` (default
 * {@link VERSION_POINTER_TTL_MS}). `ifAbsent` (the read path's fill after a Postgres load) never
 * overwrites a pointer a concurrent write has set meanwhile; the write path sets it
 * unconditionally. Returns whether it was written; Redis failures are logged, never thrown.
 */
export async function writeVersionPointer(
  services: PointerServices,
  orgId: string,
  id: string,
  version: number,
  { ifAbsent = false, ttlMs = VERSION_POINTER_TTL_MS }: { ifAbsent?: boolean; ttlMs?: number } = {},
): Promise<boolean> {
  try {
    const key = versionPointerKey(orgId, id);
    const result = await services.guard('redis', () =>
      ifAbsent
        ? services.redis.set(key, version, { px: ttlMs, nx: true })
        : services.redis.set(key, version, { px: ttlMs }),
    );
    return result === 'OK';
  } catch (error) {
    services.logger.warn('content version pointer not written', { orgId, id, version, error });
    return false;
  }
}

/** Deletes the pointer only while it still names the version given (a compare-and-delete). */
const DROP_POINTER_IF = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Removes item `id`'s version pointer if it still names `version` (a write that failed: readers
 * then go to Postgres, which refills it), leaving alone a pointer a later write has moved on.
 * Returns whether it was removed; Redis failures are logged, never thrown (the pointer expires).
 */
export async function dropVersionPointer(
  services: PointerServices,
  orgId: string,
  id: string,
  version: number,
): Promise<boolean> {
  try {
    const removed = await services.guard('redis', () =>
      services.redis.eval(DROP_POINTER_IF, [versionPointerKey(orgId, id)], [String(version)]),
    );
    return removed === 1;
  } catch (error) {
    services.logger.warn('content version pointer not dropped', { orgId, id, version, error });
    return false;
  }
}
