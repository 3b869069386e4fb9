import { sql } from 'drizzle-orm';
import { rowsOf } from '../search/database.ts';
import { engagementTypes, typeWeights } from '../search/features.ts';
import type { Services } from '../services.ts';

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
  const { windowMs, baselineMs } = TRENDING_WINDOWS[window];
  const end = now.toISOString();
  const windowStart = new Date(now.getTime() - windowMs).toISOString();
  const baselineStart = new Date(now.getTime() - windowMs - baselineMs).toISOString();
  const scale = windowMs / baselineMs;
  const reader = sql`coalesce(e.session_id, e.anonymous_id, e.user_id)`;
  const language = filters.locale?.split('-')[0]?.toLowerCase();
  const localeFilter = language
    ? sql`and (lower(e.data->>'locale') = ${language} or lower(e.data->>'locale') like ${`${language}-%`})`
    : sql``;
  const categoryFilter = filters.categories?.length
    ? sql`and c.category_id in (${sql.join(
        filters.categories.map((id) => sql`${id}`),
        sql`, `,
      )})`
    : sql``;
  const result = await services.guard('postgres', () =>
    services.db.execute(sql`
      with counts as (
        select e.content_id,
          sum(case when e.occurred_at > ${windowStart}::timestamptz
            then (case e.type ${typeWeights()} else 0 end) else 0 end)::float8 as current,
          sum(case when e.occurred_at <= ${windowStart}::timestamptz
            then (case e.type ${typeWeights()} else 0 end) else 0 end)::float8 as baseline,
          count(distinct case when e.occurred_at > ${windowStart}::timestamptz then ${reader} end)::int
            as readers
        from events e
        where e.org_id = ${orgId} and e.content_id is not null
          and e.type in (${engagementTypes()})
          and e.occurred_at > ${baselineStart}::timestamptz and e.occurred_at <= ${end}::timestamptz
          ${localeFilter}
        group by e.content_id
      ),
      scored as (
        select k.*, greatest(k.baseline * ${scale}, ${PRIOR})::float8 as expected
        from counts k
        where k.current >= ${MIN_SUPPORT}
      )
      select s.content_id, s.current, s.baseline, s.expected, s.readers,
        ((s.current - s.expected) / sqrt(s.expected))::float8 as score
      from scored s
      join content c on c.org_id = ${orgId} and c.id = s.content_id
      where c.status = 'published' and c.deleted_at is null and s.current > s.expected
        ${categoryFilter}
      order by score desc, s.content_id
      limit ${limit}`),
  );
  return (
    rowsOf(result) as {
      content_id: string;
      current: number | string;
      baseline: number | string;
      expected: number | string;
      readers: number;
      score: number | string;
    }[]
  ).map((row) => ({
    contentId: row.content_id,
    score: Number(row.score),
    current: Number(row.current),
    baseline: Number(row.baseline),
    expected: Number(row.expected),
    readers: row.readers,
  }));
}
