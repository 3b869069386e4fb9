import { type SQL, sql } from 'drizzle-orm';
import { languageOf } from '../content/locales.ts';
import type { ContentSnapshot } from '../db/schema/content.ts';
import { rowsOf } from '../search/database.ts';
import { engagementTypes, popularity, typeWeights } from '../search/features.ts';
import type { Services } from '../services.ts';
import {
  HISTORY_DAYS,
  type HistoryItem,
  historyItems,
  type Reader,
  readerMatch,
  recentItems,
} from './reader.ts';
import { CO_ENGAGEMENT_HALF_LIFE_DAYS, contentNeighbours } from './similar.ts';
import { contentFilters, type ItemFilters, sqlList } from './sql.ts';
import { cachedTrendingItems, type TrendingWindow } from './trending.ts';

/** The parts of a recommendation's score, each weighted already: they sum to the score. */
export type ScoreParts = {
  collaborative: number;
  session: number;
  category: number;
  trending: number;
  popularity: number;
  freshness: number;
};

/**
 * Co-readers at which collaborative filtering weighs as much as the other signals together:
 * below it a reader's list comes mostly from text, category and freshness (a reader of new or
 * rarely read items has little else), above it mostly from what their co-readers read, as
 * `/similar` blends its two sources.
 */
export const CO_READER_EVIDENCE = 20;
/** The least weight the signals other than collaborative filtering keep together. */
export const MIN_OTHER_SHARE = 0.3;
/** How the signals other than collaborative filtering share their weight (sums to 1). */
export const OTHER_SIGNALS = {
  session: 0.35,
  category: 0.3,
  trending: 0.1,
  popularity: 0.1,
  freshness: 0.15,
} as const;
/** The weights of a cold start (a reader without history; sums to 1). */
export const COLD_START_WEIGHTS: ScoreParts = {
  collaborative: 0,
  session: 0,
  category: 0,
  trending: 0.5,
  popularity: 0.3,
  freshness: 0.2,
};

/**
 * What an organisation may tune of the blend (`GET/PUT /v1/recommendations/settings`, and the
 * variants of a recommendations experiment): how the signals other than collaborative filtering
 * share their weight, the cold start's weights, the co-readers at which collaborative filtering
 * weighs half, the least share the others keep, the freshness half-life and the most of a list
 * one category may fill. Weights are relative: each group is scaled to sum to 1 when used.
 */
export type Blend = {
  other_signals: {
    session: number;
    category: number;
    trending: number;
    popularity: number;
    freshness: number;
  };
  cold_start: { trending: number; popularity: number; freshness: number };
  co_reader_evidence: number;
  min_other_share: number;
  freshness_half_life_days: number;
  category_share: number;
};

/** The share of the other signals given the co-readers: `max(0.3, 20 / (20 + co_readers))`. */
export const otherShareOf = (coReaders: number, blend: Blend = DEFAULT_BLEND) =>
  Math.max(
    blend.min_other_share,
    blend.co_reader_evidence / (blend.co_reader_evidence + coReaders),
  );

/** `weights` scaled to sum to 1 (all zero: all zero). */
function normalised<T extends Record<string, number>>(weights: T): T {
  const total = Object.values(weights).reduce((a, b) => a + b, 0);
  return Object.fromEntries(
    Object.entries(weights).map(([name, weight]) => [name, total > 0 ? weight / total : 0]),
  ) as T;
}

/**
 * How much each signal weighs (each is in [0, 1] before weighting, so scores are too): for a
 * reader with a history, collaborative filtering takes `1 − otherShareOf(co_readers)` and the
 * others share the rest as the blend's `other_signals` say ({@link OTHER_SIGNALS} by default);
 * a cold start uses the blend's `cold_start` ({@link COLD_START_WEIGHTS} by default).
 */
export function weightsOf(
  strategy: 'personalized' | 'trending',
  coReaders: number,
  blend: Blend = DEFAULT_BLEND,
): ScoreParts {
  if (strategy === 'trending') {
    return { collaborative: 0, session: 0, category: 0, ...normalised(blend.cold_start) };
  }
  const others = otherShareOf(coReaders, blend);
  const signals = normalised(blend.other_signals);
  return {
    collaborative: 1 - others,
    session: others * signals.session,
    category: others * signals.category,
    trending: others * signals.trending,
    popularity: others * signals.popularity,
    freshness: others * signals.freshness,
  };
}

/** The reader's latest items whose content neighbours are asked (the session's thread). */
export const SESSION_ITEMS = 3;
/**
 * Each older session item counts this much of the one after it: for its text neighbours, and
 * as a boost to its weight as a seed of collaborative filtering (the latest item adds 1 to its
 * scaled weight, the one before 0.5…), so that what the reader just read leads.
 */
export const SESSION_DECAY = 0.5;
/** The reader's items (most engaged, decayed) collaborative filtering starts from. */
export const SEED_ITEMS = 20;
/** Most co-readers (the latest) collaborative filtering draws on. */
export const MAX_CO_READERS = 1_000;
/** Half-life of freshness: an item published three days ago is half as fresh as a new one. */
export const FRESHNESS_HALF_LIFE_DAYS = 3;
/** Candidates read and scored in full: this many times the list's length, and at least… */
export const SHORTLIST_FACTOR = 4;
/** …this many. */
export const MIN_SHORTLIST = 40;
/** At most this share of a list (and at least 2 items) from one category, when others exist. */
export const CATEGORY_SHARE = 0.3;

/** The blend an organisation gets until it stores its own. */
export const DEFAULT_BLEND: Blend = {
  other_signals: { ...OTHER_SIGNALS },
  cold_start: {
    trending: COLD_START_WEIGHTS.trending,
    popularity: COLD_START_WEIGHTS.popularity,
    freshness: COLD_START_WEIGHTS.freshness,
  },
  co_reader_evidence: CO_READER_EVIDENCE,
  min_other_share: MIN_OTHER_SHARE,
  freshness_half_life_days: FRESHNESS_HALF_LIFE_DAYS,
  category_share: CATEGORY_SHARE,
};

export type Recommendation = { contentId: string; score: number; parts: ScoreParts };

export type RecommendResult = {
  strategy: 'personalized' | 'trending';
  items: Recommendation[];
  /** Distinct items in the reader's history (all left out of the answer). */
  history: number;
  /** Other readers collaborative filtering drew on. */
  coReaders: number;
  /** The sources that could not be asked. */
  degraded: string[];
  /** Whether every source of candidates failed (an empty answer then says nothing). */
  exhausted: boolean;
};

type RecommendServices = Pick<
  Services,
  'db' | 'vector' | 'redis' | 'kv' | 'guard' | 'logger' | 'embeddings' | 'waitUntil'
> & {
  /** Snapshots of items, through the cache tiers (what the answer will show). */
  snapshots(ids: readonly string[]): Promise<Map<string, ContentSnapshot>>;
  /** Times one step (the route reports it in `Server-Timing`). */
  time<T>(name: string, work: Promise<T>): Promise<T>;
};

/**
 * Recommendations for a reader (see the README's "Recommendations" for the algorithm in plain
 * words). A reader with a history gets a blend of item-to-item collaborative filtering from
 * their most engaged items, the content neighbours of their last few items (a view a second ago
 * moves the answer: Redis knows it before Postgres does), their category affinity, trending,
 * popularity and freshness; a reader with none gets what is trending (among readers of
 * `filters.locale`'s language when given), popular and fresh. Items the reader engaged with,
 * and `filters.exclude`, are left out; only published items passing the filters; no category
 * fills more than {@link CATEGORY_SHARE} of the list when others can. A source that fails is
 * named in `degraded` and the rest answer.
 */
export async function recommend(
  services: RecommendServices,
  orgId: string,
  reader: Reader,
  filters: ItemFilters,
  limit: number,
  now: Date,
  /** The reader's recent items when already read (`recentItems`), or `null` when Redis failed. */
  known?: { recent: HistoryItem[] | null },
  /** The organisation's blend (or an experiment variant's); the defaults when absent. */
  blend: Blend = DEFAULT_BLEND,
): Promise<RecommendResult> {
  const degraded = new Set<string>();
  const failed =
    <T>(reason: string, fallback: T) =>
    (error: unknown): T => {
      services.logger.warn(`recommendations: ${reason}`, { error });
      degraded.add(reason);
      return fallback;
    };
  const [recent, history] = await services.time(
    'history',
    Promise.all([
      known
        ? (known.recent ?? failed('session_events_unavailable', [])(null))
        : recentItems(services, orgId, reader).catch(failed('session_events_unavailable', [])),
      historyItems(services, orgId, reader, now).catch(failed('history_unavailable', [])),
    ]),
  );
  const seen = mergeHistory(history, recent);
  const exclude = new Set([...seen.keys(), ...(filters.exclude ?? [])]);
  const pool = Math.max(limit * 3, 30);

  let strategy: RecommendResult['strategy'] = 'trending';
  let collaborative = { scores: new Map<string, number>(), coReaders: 0 };
  let session = new Map<string, number>();
  let affinity = new Map<string, number>();
  let extra: string[] = [];
  // A reader with a history gets what is rising today; one without, this week's too.
  const windows: TrendingWindow[] = seen.size > 0 ? ['24h'] : ['24h', '7d'];
  const trendingPromise = Promise.all(
    windows.map((window) =>
      cachedTrendingItems(
        services,
        orgId,
        window,
        { categories: filters.categories, locale: filters.locale },
        pool,
        now,
      ),
    ),
  ).catch(failed('trending_unavailable', []));

  if (seen.size > 0) {
    strategy = 'personalized';
    const byRecency = [...seen.values()].sort((a, b) => b.lastAt - a.lastAt);
    const sessionSeeds = byRecency.slice(0, SESSION_ITEMS);
    const seeds = seedsOf(byRecency);
    const [co, neighbours, seenSnapshots] = await Promise.all([
      services
        .time(
          'collaborative',
          coEngagementFrom(services, orgId, reader, seeds, exclude, filters, pool, now),
        )
        .catch(failed('collaborative_unavailable', collaborative)),
      services.time('session', sessionNeighbours(services, sessionSeeds, filters, exclude, pool)),
      // Categories of items Postgres does not know the reader read yet (Redis only).
      services.snapshots(
        [...seen.values()].filter((item) => item.categoryId === undefined).map((i) => i.contentId),
      ),
    ]);
    collaborative = co;
    session = neighbours.scores;
    if (neighbours.failed) degraded.add('content_neighbours_unavailable');
    affinity = categoryAffinity([...seen.values()], seenSnapshots);
  } else {
    extra = await newestItems(services, orgId, filters, pool).catch(
      failed('newest_unavailable', []),
    );
  }
  // Each window's scores scaled against its best; an item's trending is its best window's.
  const trendingScores = new Map<string, number>();
  for (const list of await services.time('trending', trendingPromise)) {
    const best = Math.max(0, ...list.map((t) => t.score));
    for (const t of list) {
      const scaled = best > 0 ? t.score / best : 0;
      trendingScores.set(t.contentId, Math.max(trendingScores.get(t.contentId) ?? 0, scaled));
    }
  }

  const candidates = [
    ...new Set([
      ...collaborative.scores.keys(),
      ...session.keys(),
      ...trendingScores.keys(),
      ...extra,
    ]),
  ].filter((id) => !exclude.has(id));
  const weights = weightsOf(strategy, collaborative.coReaders, blend);
  // Only the best candidates by the signals known so far are read and scored in full: the parts
  // still to come (category, popularity, freshness) can move an item by at most their weights.
  const partial = (id: string) =>
    weights.collaborative * (collaborative.scores.get(id) ?? 0) +
    weights.session * (session.get(id) ?? 0) +
    weights.trending * (trendingScores.get(id) ?? 0);
  // (A stable sort: ties keep the sources' order, the newest items by publication.)
  const shortlist = candidates
    .sort((a, b) => partial(b) - partial(a))
    .slice(0, Math.max(limit * SHORTLIST_FACTOR, MIN_SHORTLIST));
  const [snapshots, popular] = await services.time(
    'candidates',
    Promise.all([
      services.snapshots(shortlist),
      services
        .guard('postgres', () => popularity(services.db, orgId, shortlist, now))
        .catch(failed('popularity_unavailable', new Map<string, number>())),
    ]),
  );
  const scored = shortlist.flatMap((contentId): Recommendation[] => {
    const snapshot = snapshots.get(contentId);
    if (!snapshot || !passes(snapshot, filters)) return [];
    const parts: ScoreParts = {
      collaborative: weights.collaborative * (collaborative.scores.get(contentId) ?? 0),
      session: weights.session * (session.get(contentId) ?? 0),
      category:
        weights.category * (snapshot.category_id ? (affinity.get(snapshot.category_id) ?? 0) : 0),
      trending: weights.trending * (trendingScores.get(contentId) ?? 0),
      popularity: weights.popularity * (popular.get(contentId) ?? 0),
      freshness: weights.freshness * freshnessOf(snapshot, now, blend.freshness_half_life_days),
    };
    const score = Object.values(parts).reduce((sum, part) => sum + part, 0);
    return [{ contentId, score, parts }];
  });
  scored.sort((a, b) => b.score - a.score || a.contentId.localeCompare(b.contentId));
  const categoryOf = (id: string) => snapshots.get(id)?.category_id ?? null;
  return {
    strategy,
    items: diversify(scored, categoryOf, limit, blend.category_share),
    history: seen.size,
    coReaders: collaborative.coReaders,
    degraded: [...degraded].sort(),
    exhausted:
      degraded.has('trending_unavailable') &&
      (strategy === 'trending'
        ? degraded.has('newest_unavailable')
        : degraded.has('collaborative_unavailable') &&
          degraded.has('content_neighbours_unavailable')),
  };
}

type SeenItem = HistoryItem & { categoryId: string | null | undefined };

/**
 * The reader's history from Postgres and their recent items from Redis as one map: an item
 * only Redis knows (its events are still on their way to Postgres) counts as a view at its
 * time, its category not known yet (`undefined`).
 */
function mergeHistory(
  history: readonly (HistoryItem & { categoryId: string | null })[],
  recent: readonly HistoryItem[],
): Map<string, SeenItem> {
  const seen = new Map<string, SeenItem>(history.map((item) => [item.contentId, { ...item }]));
  for (const item of recent) {
    const known = seen.get(item.contentId);
    if (known) known.lastAt = Math.max(known.lastAt, item.lastAt);
    else seen.set(item.contentId, { ...item, categoryId: undefined });
  }
  return seen;
}

/**
 * The reader's affinity for each category in [0, 1]: their (decayed, weighted) engagement with
 * its items as a share of their engagement with their favourite category.
 */
function categoryAffinity(
  seen: readonly SeenItem[],
  snapshots: Map<string, ContentSnapshot>,
): Map<string, number> {
  const sums = new Map<string, number>();
  for (const item of seen) {
    const category =
      item.categoryId === undefined ? snapshots.get(item.contentId)?.category_id : item.categoryId;
    if (category) sums.set(category, (sums.get(category) ?? 0) + item.weight);
  }
  const top = Math.max(0, ...sums.values());
  return new Map([...sums].map(([category, sum]) => [category, top > 0 ? sum / top : 0]));
}

/**
 * The reader's items collaborative filtering starts from: each weighs its engagement scaled
 * against the reader's most engaged item, plus a boost for the latest ones (1, then
 * {@link SESSION_DECAY} times the one after); the {@link SEED_ITEMS} heaviest.
 */
function seedsOf(byRecency: readonly SeenItem[]): { contentId: string; weight: number }[] {
  const top = Math.max(0, ...byRecency.map((item) => item.weight));
  return byRecency
    .map((item, position) => ({
      contentId: item.contentId,
      weight:
        (top > 0 ? item.weight / top : 0) +
        (position < SESSION_ITEMS ? SESSION_DECAY ** position : 0),
    }))
    .sort((a, b) => b.weight - a.weight || a.contentId.localeCompare(b.contentId))
    .slice(0, SEED_ITEMS);
}

/** Candidates of collaborative filtering whose events are counted (to discount popularity). */
export const MAX_COLLABORATIVE_CANDIDATES = 200;

/**
 * Item-to-item collaborative filtering from the reader's seed items: the other readers who
 * engaged with them in the last {@link HISTORY_DAYS} days (the latest {@link MAX_CO_READERS}),
 * each weighted by how much of the seeds they share, and what else those readers engaged with,
 * weighted by type and halved every week. A co-reader who read a great deal counts less per
 * item (divided by √ of their items), so one omnivore does not set the list; an item read by
 * many counts less per co-reader (divided by √ of its events in the window: a count the
 * `(org_id, content_id, occurred_at)` index answers alone), as cosine similarity does, so the
 * list is what these readers share rather than what everyone reads. Scaled to [0, 1]
 * against the strongest; only published items passing the filters.
 *
 * A reader is a session, else an anonymous visitor, else a user (as everywhere in
 * recommendations); each co-reader's events are fetched through the index of their kind.
 */
async function coEngagementFrom(
  services: RecommendServices,
  orgId: string,
  reader: Reader,
  seeds: readonly { contentId: string; weight: number }[],
  exclude: Set<string>,
  filters: ItemFilters,
  limit: number,
  now: Date,
): Promise<{ scores: Map<string, number>; coReaders: number }> {
  const since = new Date(now.getTime() - HISTORY_DAYS * 86_400_000).toISOString();
  const until = now.toISOString();
  const other = sql`coalesce(e.session_id, e.anonymous_id, e.user_id)`;
  const inWindow = sql`e.org_id = ${orgId} and e.type in (${engagementTypes()})
    and e.occurred_at >= ${since} and e.occurred_at <= ${until}`;
  const seedRows = sql.join(
    seeds.map((s) => sql`(${s.contentId}, ${s.weight}::float8)`),
    sql`, `,
  );
  // One co-reader kind's events: weighted by type, halved every week, not the excluded items.
  const eventsOf = (kind: string, match: SQL) => sql`
    select co.reader, co.overlap, e.content_id,
      (case e.type ${typeWeights()} else 0 end)
        * power(0.5, extract(epoch from (${until}::timestamptz - e.occurred_at))
          / ${CO_ENGAGEMENT_HALF_LIFE_DAYS * 86_400}) as w
    from co join events e on ${match}
    where co.kind = ${kind} and ${inWindow}
      and e.content_id is not null and e.content_id not in (${sqlList([...exclude])})`;
  const result = await services.guard('postgres', () =>
    services.db.execute(sql`
      with seeds(content_id, w) as (values ${seedRows}),
      co as (
        select ${other} as reader,
          case when e.session_id is not null then 's'
            when e.anonymous_id is not null then 'a' else 'u' end as kind,
          sum(s.w)::float8 as overlap, max(e.occurred_at) as last_at
        from events e
        join seeds s on s.content_id = e.content_id
        where ${inWindow}
          and ${other} is not null and not coalesce(${readerMatch(reader)}, false)
        group by 1, 2
        order by last_at desc
        limit ${MAX_CO_READERS}
      ),
      co_events as (
        ${eventsOf('s', sql`e.session_id = co.reader`)}
        union all
        ${eventsOf('a', sql`e.anonymous_id = co.reader and e.session_id is null`)}
        union all
        ${eventsOf('u', sql`e.user_id = co.reader and e.session_id is null and e.anonymous_id is null`)}
      ),
      engaged as (
        select reader, overlap, content_id, sum(w)::float8 as w
        from co_events group by reader, overlap, content_id
      ),
      breadth as (select reader, count(*) as items from engaged group by reader),
      raw as (
        select g.content_id, sum(g.overlap * g.w / sqrt(b.items))::float8 as weight
        from engaged g join breadth b on b.reader = g.reader
        group by g.content_id
        order by weight desc, g.content_id
        limit ${MAX_COLLABORATIVE_CANDIDATES}
      ),
      readers as (
        select e.content_id, count(*)::float8 as readers
        from events e
        where e.org_id = ${orgId} and e.occurred_at >= ${since} and e.occurred_at <= ${until}
          and e.content_id in (select content_id from raw)
        group by e.content_id
      )
      select n.co_readers, q.content_id, q.weight
      from (select count(*)::int as co_readers from co) n
      left join lateral (
        select r.content_id, (r.weight / sqrt(greatest(p.readers, 1)))::float8 as weight
        from raw r
        left join readers p on p.content_id = r.content_id
        join content c on c.org_id = ${orgId} and c.id = r.content_id
        where c.status = 'published' and c.deleted_at is null ${contentFilters(filters)}
        order by weight desc, r.content_id
        limit ${limit}
      ) q on true`),
  );
  const rows = rowsOf(result) as {
    co_readers: number;
    content_id: string | null;
    weight: number | string | null;
  }[];
  const pairs = rows.filter((r): r is typeof r & { content_id: string } => r.content_id !== null);
  const best = Math.max(0, ...pairs.map((r) => Number(r.weight)));
  return {
    scores: new Map(pairs.map((r) => [r.content_id, best > 0 ? Number(r.weight) / best : 0])),
    coReaders: rows[0]?.co_readers ?? 0,
  };
}

/**
 * The content neighbours of the reader's last items (the newest first), each item's counting
 * {@link SESSION_DECAY} times the one after it; an item's score is its best. This is how a new
 * item, which nobody has read, reaches readers: through its text.
 */
async function sessionNeighbours(
  services: RecommendServices,
  items: readonly SeenItem[],
  filters: ItemFilters,
  exclude: Set<string>,
  topK: number,
): Promise<{ scores: Map<string, number>; failed: boolean }> {
  const snapshots = await services.snapshots(items.map((item) => item.contentId));
  let failed = false;
  const lists = await Promise.all(
    items.map(async (item) => {
      const snapshot = snapshots.get(item.contentId);
      if (!snapshot) return new Map<string, number>();
      return contentNeighbours(services, snapshot, filters, exclude, topK).catch(
        (error: unknown) => {
          services.logger.warn('recommendations: content neighbours unavailable', { error });
          failed = true;
          return new Map<string, number>();
        },
      );
    }),
  );
  const scores = new Map<string, number>();
  lists.forEach((list, position) => {
    const weight = SESSION_DECAY ** position;
    for (const [id, similarity] of list) {
      scores.set(id, Math.max(scores.get(id) ?? 0, weight * similarity));
    }
  });
  return { scores, failed };
}

/** The organisation's newest published items passing the filters (cold-start candidates). */
async function newestItems(
  services: RecommendServices,
  orgId: string,
  filters: ItemFilters,
  limit: number,
): Promise<string[]> {
  const result = await services.guard('postgres', () =>
    services.db.execute(sql`
      select c.id from content c
      where c.org_id = ${orgId} and c.status = 'published' and c.deleted_at is null
        ${contentFilters(filters)}
      order by c.published_at desc nulls last, c.id
      limit ${limit}`),
  );
  return (rowsOf(result) as { id: string }[]).map((row) => row.id);
}

/** Whether a snapshot is a published item that passes the filters. */
function passes(snapshot: ContentSnapshot, filters: ItemFilters): boolean {
  if (snapshot.status !== 'published' || snapshot.deleted_at !== null) return false;
  if (filters.categories?.length && !filters.categories.includes(snapshot.category_id ?? '')) {
    return false;
  }
  if (filters.tags?.length && !filters.tags.some((tag) => snapshot.tags.includes(tag))) {
    return false;
  }
  if (filters.locale) {
    const language = languageOf(filters.locale);
    if (!Object.keys(snapshot.translations).some((l) => languageOf(l) === language)) return false;
  }
  return true;
}

/** Freshness in [0, 1]: halved every `halfLifeDays` days since publication. */
function freshnessOf(snapshot: ContentSnapshot, now: Date, halfLifeDays: number): number {
  if (!snapshot.published_at) return 0;
  const days = Math.max(0, now.getTime() - Date.parse(snapshot.published_at)) / 86_400_000;
  return 0.5 ** (days / halfLifeDays);
}

/**
 * The best `limit` items with at most `max(2, ⌈share × limit⌉)` of one category (items without
 * one count as their own; `share` is {@link CATEGORY_SHARE} by default); when too few others
 * exist to fill the list, the best of those held back fill it, in order.
 */
export function diversify<T extends { contentId: string }>(
  ranked: readonly T[],
  categoryOf: (id: string) => string | null,
  limit: number,
  share = CATEGORY_SHARE,
): T[] {
  const cap = Math.max(2, Math.ceil(share * limit));
  const counts = new Map<string | null, number>();
  const chosen: T[] = [];
  const held: T[] = [];
  for (const item of ranked) {
    if (chosen.length === limit) break;
    const category = categoryOf(item.contentId);
    const count = counts.get(category) ?? 0;
    if (category !== null && count >= cap) {
      held.push(item);
      continue;
    }
    counts.set(category, count + 1);
    chosen.push(item);
  }
  if (chosen.length < limit) {
    const fill = held.slice(0, limit - chosen.length);
    const order = new Map(ranked.map((item, i) => [item.contentId, i]));
    return [...chosen, ...fill].sort((a, b) => order.get(a.contentId)! - order.get(b.contentId)!);
  }
  return chosen;
}
