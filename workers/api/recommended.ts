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
 * The ranked items as an answer shows them, best first: each read now through the cache tiers,
 * left out when it is no longer published (the index or the events may lag a change), with its
 * title in `locale` (or the best fallback), its `score`, and, when `explain` is given, the parts
 * of the score it names.
 */
export async function showRanked<T extends { contentId: string; score: number }>(
  services: Services,
  orgId: string,
  ranked: readonly T[],
  locale: string | undefined,
  explain: ((entry: T) => Record<string, number>) | null,
): Promise<(RecommendedItem & { score: number; explain?: Record<string, number> })[]> {
  const { reads } = await readContents(
    services,
    orgId,
    ranked.map((entry) => entry.contentId),
  );
  return ranked.flatMap((entry) => {
    const snapshot = reads.get(entry.contentId)?.snapshot;
    if (snapshot?.status !== 'published' || snapshot.deleted_at !== null) return [];
    return [
      {
        ...view(snapshot, locale),
        score: entry.score,
        ...(explain ? { explain: explain(entry) } : {}),
      },
    ];
  });
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
