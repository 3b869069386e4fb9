import { loadSnapshots } from '../../../../shared/content/store.ts';
import type { ContentStatus } from '../../../../shared/db/schema/content.ts';
import { content, contentTranslations } from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import { indexContent } from '../../../../shared/search/index-entry.ts';
import { testDb, testServices } from '../../helpers.ts';

export type TestTranslation = {
  title: string;
  body?: string;
  summary?: string | null;
  slug?: string;
};

export type TestContent = {
  status?: ContentStatus;
  /** Keyed by locale; slugs default to `<title words>-<random>` so tests never collide. */
  translations?: Record<string, TestTranslation>;
  /** Default: the first translation's locale. */
  defaultLocale?: string;
  version?: number;
  categoryId?: string | null;
  tags?: string[];
  metadata?: Record<string, unknown>;
  publishedAt?: Date | null;
  updatedAt?: Date;
  createdAt?: Date;
  /** Soft-deleted at this time (the item and its translations). */
  deletedAt?: Date | null;
};

/**
 * Inserts a content item and its translations straight into Postgres (there is no write path
 * yet): a draft at version 1 with one English translation unless told otherwise. Returns its id
 * and the slugs used per locale.
 */
export async function insertContent(
  orgId: string,
  options: TestContent = {},
): Promise<{ id: string; slugs: Record<string, string> }> {
  const id = newId('content');
  const translations = options.translations ?? { en: { title: 'Hello world', body: 'Body.' } };
  const locales = Object.keys(translations);
  const deletedAt = options.deletedAt ?? null;
  await testDb()
    .insert(content)
    .values({
      id,
      orgId,
      status: options.status ?? 'draft',
      version: options.version ?? 1,
      categoryId: options.categoryId ?? null,
      tags: options.tags ?? [],
      metadata: options.metadata ?? {},
      defaultLocale: options.defaultLocale ?? locales[0] ?? 'en',
      publishedAt: options.publishedAt ?? null,
      deletedAt,
      ...(options.createdAt ? { createdAt: options.createdAt } : {}),
      ...(options.updatedAt ? { updatedAt: options.updatedAt } : {}),
    });
  const slugs: Record<string, string> = {};
  const rows = locales.map((locale) => {
    const t = translations[locale]!;
    const slug = t.slug ?? `item-${id.slice(-10)}`;
    slugs[locale] = slug;
    return {
      contentId: id,
      orgId,
      locale,
      title: t.title,
      summary: t.summary ?? null,
      body: t.body ?? '',
      slug,
      deletedAt,
    };
  });
  if (rows.length > 0) await testDb().insert(contentTranslations).values(rows);
  return { id, slugs };
}

/**
 * A published item inserted (as {@link insertContent}) and indexed in its organisation's search
 * index, as the write path leaves it: it has content neighbours at once.
 */
export async function publishIndexed(
  orgId: string,
  options: TestContent & { translations: Record<string, TestTranslation> },
): Promise<string> {
  const { id } = await insertContent(orgId, {
    publishedAt: new Date('2026-11-20T00:00:00Z'),
    ...options,
    status: 'published',
  });
  for (const snapshot of (await loadSnapshots(testDb(), orgId, [id])).values()) {
    await indexContent(testServices(), snapshot);
  }
  return id;
}
