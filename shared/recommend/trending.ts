import { sql } from 'drizzle-orm';
import { CACHE_POLICIES, cacheStores, createCache } from '../cache/index.ts';
import { rowsOf } from '../search/database.ts';
import { engagementTypes, typeWeights } from '../search/features.ts';
import type { Services } from '../services.ts';
import { inLanguage } from './sql.ts';

/** The windows trending is measured over, and the baseline each is compared with. */
export const TRENDING_WINDOWS = {
  '1h': { windowMs: 3_600_000, baselineMs: 24 * 3_600_000 },
  '24h': { windowMs: 86_400_000, baselineMs: 7 * 86_400_000 },
  '7d': { windowMs: 7 * 86_400_000, baselineMs: 28 * 86_400_000 },
} as const;
export type TrendingWindow = keyof typeof TRENDING_WINDOWS;

/** The least weighted engagement in the window for an item to trend (minimum support). */
export const MIN_SUPPORT = 3;
/**
 * What an item is expected to get in a window when its baseline had nothing (a prior, in
 * weighted events): a new item must beat it, not zero.
 */
export const PRIOR = 1;

export type TrendingFilters = {
  categories?: string[] | undefined;
  /** Readers' language (`data.locale` of their events): what is trending among them. */
  locale?: string | undefined;
};

/** One trending item: its score and what it is made of. */
export type TrendingItem = {
  contentId: string;
  score: number;
  /** Weighted engagement in the window. */
  current: number;
  /** Weighted engagement in the baseline period, and what that predicts for one window. */
  baseline: number;
  expected: number;
  /** Distinct readers in the window. */
  readers: number;
};

type TrendingServices = Pick<Services, 'db' | 'guard'>;

/**
 * Per published item of the organisation: its weighted engagement in the window (`current`) and
 * in the baseline period before it (`baseline`), and its distinct readers in the window (a SQL
 * `counts` CTE body, joined to `content` as `c`). Only events of readers of `locale`'s language
 * when given.
 */
function windowCounts(
  orgId: string,
  window: TrendingWindow,
  locale: string | undefined,
  now: Date,
) {
  const { windowMs, baselineMs } = TRENDING_WINDOWS[window];
  const end = now.toISOString();
  const windowStart = new Date(now.getTime() - windowMs).toISOString();
  const baselineStart = new Date(now.getTime() - windowMs - baselineMs).toISOString();
  const reader = sql`coalesce(e.session_id, e.anonymous_id, e.user_id)`;
  const localeFilter = locale ? sql`and ${inLanguage(sql`e.data->>'locale'`, locale)}` : sql``;
  return sql`
    select e.content_id, c.category_id, c.tags,
      sum(case when e.occurred_at > ${windowStart}::timestamptz
        then (case e.type ${typeWeights()} else 0 end) else 0 end)::float8 as current,
      sum(case when e.occurred_at <= ${windowStart}::timestamptz
        then (case e.type ${typeWeights()} else 0 end) else 0 end)::float8 as baseline,
      count(distinct case when e.occurred_at > ${windowStart}::timestamptz then ${reader} end)::int
        as readers
    from events e
    join content c on c.org_id = e.org_id and c.id = e.content_id
    where e.org_id = ${orgId} and e.content_id is not null
      and e.type in (${engagementTypes()})
      and e.occurred_at > ${baselineStart}::timestamptz and e.occurred_at <= ${end}::timestamptz
      and c.status = 'published' and c.deleted_at is null
      ${localeFilter}
    group by e.content_id, c.category_id, c.tags`;
}

/** What a baseline predicts for one window: scaled to the window's length, at least the prior. */
const expectedOf = (baseline: number, window: TrendingWindow) => {
  const { windowMs, baselineMs } = TRENDING_WINDOWS[window];
  return Math.max((baseline * windowMs) / baselineMs, PRIOR);
};

/** The Poisson z-score of `current` against `expected`. */
const zScore = (current: number, expected: number) => (current - expected) / Math.sqrt(expected);

/**
 * The organisation's trending items: each published item's weighted engagement in the last
 * window (`current`) against what its own baseline predicts for one window (`expected`: its
 * engagement over the baseline period before the window, scaled to the window's length, or
 * {@link PRIOR} when that is less). The score is a Poisson z-score, `(current − expected) /
 * √expected`: how many standard deviations above its usual an item is, so a steady favourite
 * does not trend and a small item that suddenly doubles does. Items under
 * {@link MIN_SUPPORT} weighted events in the window, or not above their baseline, are left out.
 */
export async function trendingItems(
  services: TrendingServices,
  orgId: string,
  window: TrendingWindow,
  filters: TrendingFilters,
  limit: number,
  now: Date,
): Promise<TrendingItem[]> {
  const categoryFilter = filters.categories?.length
    ? sql`and k.category_id in (${sql.join(
        filters.categories.map((id) => sql`${id}`),
        sql`, `,
      )})`
    : sql``;
  const result = await services.guard('postgres', () =>
    services.db.execute(sql`
      with counts as (${windowCounts(orgId, window, filters.locale, now)})
      select k.content_id, k.current, k.baseline, k.readers
      from counts k
      where k.current >= ${MIN_SUPPORT} ${categoryFilter}`),
  );
  const rows = rowsOf(result) as {
    content_id: string;
    current: number | string;
    baseline: number | string;
    readers: number;
  }[];
  return rows
    .flatMap((row) => {
      const current = Number(row.current);
      const baseline = Number(row.baseline);
      const expected = expectedOf(baseline, window);
      if (current <= expected) return [];
      const score = zScore(current, expected);
      return [
        { contentId: row.content_id, score, current, baseline, expected, readers: row.readers },
      ];
    })
    .sort((a, b) => b.score - a.score || a.contentId.localeCompare(b.contentId))
    .slice(0, limit);
}

/** A category or tag on the rise: the sums of its published items' engagement. */
export type TrendingFacet = {
  value: string;
  score: number;
  current: number;
  baseline: number;
  expected: number;
};

/**
 * Categories and tags rising: the same score as {@link trendingItems}, over the summed
 * engagement of each category's (each tag's) published items, so a category trends when its
 * items together are read more than usual, even if no single item stands out. The same support
 * floor; at most `limit` of each, best first.
 */
export async function trendingFacets(
  services: TrendingServices,
  orgId: string,
  window: TrendingWindow,
  locale: string | undefined,
  limit: number,
  now: Date,
): Promise<{ categories: TrendingFacet[]; tags: TrendingFacet[] }> {
  const result = await services.guard('postgres', () =>
    services.db.execute(sql`
      with counts as (${windowCounts(orgId, window, locale, now)})
      select 'category' as facet, k.category_id as value,
        sum(k.current)::float8 as current, sum(k.baseline)::float8 as baseline
      from counts k where k.category_id is not null group by k.category_id
      union all
      select 'tag', t.tag, sum(k.current)::float8, sum(k.baseline)::float8
      from counts k cross join lateral unnest(k.tags) as t(tag) group by t.tag`),
  );
  const facets = (
    rowsOf(result) as {
      facet: 'category' | 'tag';
      value: string;
      current: number | string;
      baseline: number | string;
    }[]
  ).flatMap((row) => {
    const current = Number(row.current);
    const baseline = Number(row.baseline);
    const expected = expectedOf(baseline, window);
    if (current < MIN_SUPPORT || current <= expected) return [];
    const score = zScore(current, expected);
    return [{ facet: row.facet, value: row.value, score, current, baseline, expected }];
  });
  const best = (facet: 'category' | 'tag') =>
    facets
      .filter((f) => f.facet === facet)
      .sort((a, b) => b.score - a.score || a.value.localeCompare(b.value))
      .slice(0, limit)
      .map(({ facet: _, ...rest }) => rest);
  return { categories: best('category'), tags: best('tag') };
}

/**
 * {@link trendingItems} through a cache of its own (`trendingSignal`: fresh for a minute, in the
 * isolate and Redis), for recommendations, where trending is one signal among several and the
 * same organisation-wide counts would otherwise be made for every reader. `GET /v1/trending`
 * itself counts live.
 */
export async function cachedTrendingItems(
  services: TrendingServices & Pick<Services, 'kv' | 'redis' | 'logger' | 'waitUntil'>,
  orgId: string,
  window: TrendingWindow,
  filters: TrendingFilters,
  limit: number,
  now: Date,
): Promise<TrendingItem[]> {
  const cache = createCache<{ trendingSignal: TrendingItem[] }>(
    cacheStores(services),
    { trendingSignal: CACHE_POLICIES.trendingSignal },
    { logger: services.logger, waitUntil: (p) => services.waitUntil(p) },
  );
  const id = JSON.stringify([window, filters.locale ?? null, filters.categories ?? [], limit]);
  const { value } = await cache.trendingSignal.swr({ orgId, id }, () =>
    trendingItems(services, orgId, window, filters, limit, now),
  );
  return value ?? [];
}
