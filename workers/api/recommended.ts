import { z } from '@hono/zod-openapi';
import { resolveLocale } from '../../shared/content/locales.ts';
import type { ContentSnapshot } from '../../shared/db/schema/content.ts';
import type { Services } from '../../shared/services.ts';
import { readContents } from './content-read.ts';

/** What recommendation answers show of an item (neighbours, trending), besides its score. */
export const RecommendedItemFields = {
  id: z.string(),
  locale: z.string().nullable().openapi({ description: 'The translation the title is from.' }),
  title: z.string(),
  url: z.string().openapi({ description: 'Where to read it (`GET /v1/content/{id}`).' }),
  category_id: z.string().nullable(),
  tags: z.array(z.string()),
  published_at: z.string().nullable(),
};

export type RecommendedItem = {
  id: string;
  locale: string | null;
  title: string;
  url: string;
  category_id: string | null;
  tags: string[];
  published_at: string | null;
};

/**
 * The items `ids` name, read now through the cache tiers, in the same order, leaving out any
 * that is no longer published (the index or the events may lag a change); each with its title
 * in `locale` (or the best fallback).
 */
export async function recommendedItems(
  services: Services,
  orgId: string,
  ids: readonly string[],
  locale: string | undefined,
): Promise<Map<string, RecommendedItem>> {
  const { reads } = await readContents(services, orgId, ids);
  const items = new Map<string, RecommendedItem>();
  for (const id of ids) {
    const snapshot = reads.get(id)?.snapshot;
    if (snapshot?.status !== 'published' || snapshot.deleted_at !== null) continue;
    items.set(id, view(snapshot, locale));
  }
  return items;
}

function view(snapshot: ContentSnapshot, requested: string | undefined): RecommendedItem {
  const { locale } = resolveLocale({
    available: Object.keys(snapshot.translations),
    requested: requested ? [requested] : [],
    defaultLocale: snapshot.default_locale,
  });
  const translation = locale ? snapshot.translations[locale] : undefined;
  return {
    id: snapshot.id,
    locale,
    title: translation?.title ?? '',
    url: `/v1/content/${snapshot.id}${locale ? `?locale=${encodeURIComponent(locale)}` : ''}`,
    category_id: snapshot.category_id,
    tags: snapshot.tags,
    published_at: snapshot.published_at,
  };
}
