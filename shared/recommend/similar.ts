import { QueryMode } from '@upstash/vector';
import { sql } from 'drizzle-orm';
import type { ContentSnapshot } from '../db/schema/content.ts';
import { rowsOf } from '../search/database.ts';
import { engagementTypes, typeWeights } from '../search/features.ts';
import { searchEntryId } from '../search/index-entry.ts';
import { indexNamespaces } from '../search/namespace.ts';
import type { SearchMetadata } from '../search/records.ts';
import { filterString, MAX_TOP_K, vectorFilter } from '../search/vector-search.ts';
import type { Services } from '../services.ts';
import { contentFilters, type ItemFilters, sqlList } from './sql.ts';

/** How far back co-engagement looks. */
export const CO_ENGAGEMENT_DAYS = 30;
/** Half-life of a co-engagement: a pair read together last week counts half of one today. */
export const CO_ENGAGEMENT_HALF_LIFE_DAYS = 7;
/** The item's most recent readers (sessions) co-engagement looks at, at most. */
export const MAX_READERS = 1_000;
/**
 * Readers at which co-engagement weighs as much as content similarity: below it, an item's
 * neighbours come mostly from its text (a new item has only those); above it, mostly from what
 * its readers also read, down to {@link MIN_CONTENT_SHARE}.
 */
export const CO_ENGAGEMENT_EVIDENCE = 20;
/** The least weight content similarity keeps, however many readers an item has. */
export const MIN_CONTENT_SHARE = 0.3;

/** The weight of content similarity in the blend, given how many readers the item had. */
export const contentShareOf = (readers: number) =>
  Math.max(MIN_CONTENT_SHARE, CO_ENGAGEMENT_EVIDENCE / (CO_ENGAGEMENT_EVIDENCE + readers));

export type SimilarFilters = ItemFilters;

/** A neighbour and its score's parts, each in [0, 1]. */
export type Neighbour = {
  contentId: string;
  score: number;
  content: number;
  coEngagement: number;
};

export type SimilarResult = {
  neighbours: Neighbour[];
  /** How many readers of the item co-engagement was computed from. */
  readers: number;
  /** The sources that could not be asked (`content_neighbours_unavailable`, …). */
  degraded: string[];
};

type SimilarServices = Pick<
  Services,
  'db' | 'vector' | 'redis' | 'guard' | 'logger' | 'embeddings' | 'waitUntil'
>;

/**
 * An item's neighbours, blended from two sources:
 *
 * - content: the items nearest to its dense vector in the organisation's search index (its
 *   translation in `locale`, else its default one), so an item has neighbours as soon as it is
 *   indexed, before anyone reads it;
 * - co-engagement: what the item's readers (a session, else an anonymous or a signed-in reader)
 *   also engaged with in the last {@link CO_ENGAGEMENT_DAYS} days, each event weighted by its
 *   type (`ENGAGEMENT_WEIGHTS`) and halved every {@link CO_ENGAGEMENT_HALF_LIFE_DAYS} days,
 *   scaled against the strongest.
 *
 * The blend leans on co-engagement as evidence grows: content keeps
 * `max(MIN_CONTENT_SHARE, E / (E + readers))` (E = {@link CO_ENGAGEMENT_EVIDENCE}). Only
 * published items of the organisation that pass the filters are returned, never the item itself.
 * A source that fails is named in `degraded` and the other answers alone.
 */
export async function similarItems(
  services: SimilarServices,
  item: ContentSnapshot,
  filters: SimilarFilters,
  limit: number,
  now: Date,
): Promise<SimilarResult> {
  const degraded: string[] = [];
  const exclude = new Set([item.id, ...(filters.exclude ?? [])]);
  const [content, co] = await Promise.all([
    contentNeighbours(services, item, filters, exclude, limit * 3 + 10).catch((error: unknown) => {
      services.logger.warn('similar: content neighbours unavailable', { error });
      degraded.push('content_neighbours_unavailable');
      return new Map<string, number>();
    }),
    coEngagement(services, item, filters, exclude, limit * 3 + 10, now).catch((error: unknown) => {
      services.logger.warn('similar: co-engagement unavailable', { error });
      degraded.push('co_engagement_unavailable');
      return { scores: new Map<string, number>(), readers: 0 };
    }),
  ]);
  const contentShare = contentShareOf(co.readers);
  const ids = new Set([...content.keys(), ...co.scores.keys()]);
  const neighbours = [...ids]
    .map((contentId): Neighbour => {
      const c = content.get(contentId) ?? 0;
      const e = co.scores.get(contentId) ?? 0;
      return {
        contentId,
        content: c,
        coEngagement: e,
        score: contentShare * c + (1 - contentShare) * e,
      };
    })
    .sort((a, b) => b.score - a.score || a.contentId.localeCompare(b.contentId))
    .slice(0, limit);
  return { neighbours, readers: co.readers, degraded: degraded.sort() };
}

/**
 * The nearest items to one of `item`'s translations in the organisation's active index (dense
 * side), best score per item. An item that is not indexed (unpublished, or not yet) has none.
 */
export async function contentNeighbours(
  services: SimilarServices,
  item: ContentSnapshot,
  filters: SimilarFilters,
  exclude: Set<string>,
  topK: number,
): Promise<Map<string, number>> {
  const { active } = await indexNamespaces(services, item.org_id);
  const namespace = services.vector.namespace(active);
  const locales = Object.keys(item.translations);
  const preferred = [filters.locale, item.default_locale, ...locales].filter(
    (l): l is string => typeof l === 'string' && locales.includes(l),
  );
  const entries = await services.guard('vector', () =>
    namespace.fetch(
      [...new Set(preferred)].map((locale) => searchEntryId(item.id, locale)),
      { includeVectors: true },
    ),
  );
  const vector = entries.find((entry) => entry?.vector && entry.vector.length > 0)?.vector;
  if (!vector) return new Map();
  const parts = [
    vectorFilter({ categories: filters.categories, tags: filters.tags }, filters.locale),
    `content_id NOT IN (${[...exclude].map(filterString).join(', ')})`,
  ].filter((part) => part !== '');
  const results = await services.guard('vector', () =>
    namespace.query<SearchMetadata>({
      vector,
      queryMode: QueryMode.DENSE,
      topK: Math.min(topK, MAX_TOP_K),
      includeMetadata: true,
      filter: parts.join(' AND '),
    }),
  );
  const scores = new Map<string, number>();
  for (const result of results) {
    const id = result.metadata?.content_id;
    if (!id || exclude.has(id)) continue;
    scores.set(id, Math.max(scores.get(id) ?? 0, result.score));
  }
  return scores;
}

/**
 * What the item's last {@link MAX_READERS} readers also engaged with: time-decayed, type-weighted
 * sums per item, scaled to [0, 1] against the strongest; only published items of the
 * organisation that pass the filters.
 */
async function coEngagement(
  services: SimilarServices,
  item: ContentSnapshot,
  filters: SimilarFilters,
  exclude: Set<string>,
  limit: number,
  now: Date,
): Promise<{ scores: Map<string, number>; readers: number }> {
  const since = new Date(now.getTime() - CO_ENGAGEMENT_DAYS * 86_400_000).toISOString();
  const until = now.toISOString();
  const halfLifeSeconds = CO_ENGAGEMENT_HALF_LIFE_DAYS * 86_400;
  const reader = sql`coalesce(e.session_id, e.anonymous_id, e.user_id)`;
  const excluded = sqlList([...exclude]);
  const result = await services.guard('postgres', () =>
    services.db.execute(sql`
      with readers as (
        select ${reader} as reader, max(e.occurred_at) as last_at
        from events e
        where e.org_id = ${item.org_id} and e.content_id = ${item.id}
          and e.type in (${engagementTypes()})
          and e.occurred_at >= ${since} and e.occurred_at <= ${until}
          and ${reader} is not null
        group by 1
        order by last_at desc
        limit ${MAX_READERS}
      ),
      pairs as (
        select e.content_id,
          sum((case e.type ${typeWeights()} else 0 end)
            * power(0.5, extract(epoch from (${until}::timestamptz - e.occurred_at)) / ${halfLifeSeconds}))::float8
            as weight
        from events e
        join readers r on r.reader = ${reader}
        where e.org_id = ${item.org_id}
          and e.type in (${engagementTypes()})
          and e.occurred_at >= ${since} and e.occurred_at <= ${until}
          and e.content_id is not null and e.content_id not in (${excluded})
        group by e.content_id
      )
      select n.readers, q.content_id, q.weight
      from (select count(*)::int as readers from readers) n
      left join lateral (
        select p.content_id, p.weight
        from pairs p
        join content c on c.org_id = ${item.org_id} and c.id = p.content_id
        where c.status = 'published' and c.deleted_at is null
          ${contentFilters(filters)}
        order by p.weight desc, p.content_id
        limit ${limit}
      ) q on true`),
  );
  const rows = rowsOf(result) as {
    readers: number;
    content_id: string | null;
    weight: number | string | null;
  }[];
  const pairs = rows.filter((r): r is typeof r & { content_id: string } => r.content_id !== null);
  const top = Math.max(0, ...pairs.map((r) => Number(r.weight)));
  return {
    scores: new Map(pairs.map((r) => [r.content_id, top > 0 ? Number(r.weight) / top : 0])),
    readers: rows[0]?.readers ?? 0,
  };
}
