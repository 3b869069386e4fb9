import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Principal } from '../auth/permissions.ts';
import { isId, newId } from '../ids.ts';
import type { Services } from '../services.ts';
import { type Database, rowsOf } from './database.ts';
import type { SearchFilters } from './keyword.ts';

/** The `EVENTS` message type that carries one {@link EngagementEvent}. */
export const ENGAGEMENT_EVENT = 'engagement.event';

/**
 * What readers do with content, as clients report it through `POST /v1/events`
 * (`workers/api/routes/events`).
 */
export const CLIENT_EVENT_TYPES = [
  'content.viewed',
  'content.clicked',
  'content.shared',
  'content.liked',
  'content.converted',
  'content.dwell',
  'recommendation.clicked',
] as const;
export type ClientEventType = (typeof CLIENT_EVENT_TYPES)[number];

/**
 * The engagement events recorded: searches and result clicks (recorded by the search routes) and
 * the {@link CLIENT_EVENT_TYPES}. Popularity and affinity weigh some of them (`features.ts`).
 */
export const ENGAGEMENT_TYPES = [
  'search.performed',
  'search.result_clicked',
  ...CLIENT_EVENT_TYPES,
] as const;
export type EngagementType = (typeof ENGAGEMENT_TYPES)[number];

/** The most JSON an event's `data` may hold, in UTF-8 bytes. */
export const MAX_EVENT_DATA_BYTES = 4096;
/** The longest query text kept in a `search.performed` event, in characters. */
export const MAX_RECORDED_QUERY_CHARS = 500;

const encoder = new TextEncoder();

const idOf = (kind: Parameters<typeof isId>[0], example: string) =>
  z.string().refine((value) => isId(kind, value), `must be an id (${example}_…)`);

/**
 * The `engagement.event` payload on `EVENTS`: one `events` row, built at the edge. The id is
 * the producer's, so a redelivered message conflicts on (id, occurred_at) instead of counting
 * twice. An API key's id goes in `data.api_key_id` (the table has no column for it).
 */
export const EngagementEvent = z.object({
  id: idOf('event', 'evt'),
  occurred_at: z.iso.datetime(),
  org_id: idOf('organization', 'org'),
  type: z.enum(ENGAGEMENT_TYPES),
  user_id: idOf('user', 'usr').nullable(),
  /** A signed-out reader's stable id and the visit's, as the client names them. */
  anonymous_id: z.string().max(128).nullable().optional(),
  session_id: z.string().max(128).nullable().optional(),
  content_id: idOf('content', 'cnt').nullable(),
  query_id: idOf('query', 'qry').nullable(),
  data: z
    .record(z.string(), z.unknown())
    .refine(
      (data) => encoder.encode(JSON.stringify(data)).length <= MAX_EVENT_DATA_BYTES,
      `must be at most ${MAX_EVENT_DATA_BYTES} bytes of JSON`,
    ),
});
export type EngagementEvent = z.infer<typeof EngagementEvent>;

export type EngagementInput = {
  type: EngagementType;
  /** Who acted: a user's id goes in `user_id`, an API key's in `data.api_key_id`. */
  principal: Principal;
  contentId?: string | null;
  queryId?: string | null;
  data?: Record<string, unknown>;
  now?: Date;
};

/**
 * A new engagement event of the principal's organisation, validated (it throws when `data` is
 * over {@link MAX_EVENT_DATA_BYTES} or an id is malformed, which is a bug in the caller).
 */
export function engagementEvent(input: EngagementInput): EngagementEvent {
  const { principal } = input;
  return EngagementEvent.parse({
    id: newId('event'),
    occurred_at: (input.now ?? new Date()).toISOString(),
    org_id: principal.orgId,
    type: input.type,
    user_id: principal.kind === 'user' ? principal.userId : null,
    content_id: input.contentId ?? null,
    query_id: input.queryId ?? null,
    data: {
      ...input.data,
      ...(principal.kind === 'api_key' ? { api_key_id: principal.keyId } : {}),
    },
  });
}

/** What a search did, as {@link recordSearch} records it. */
export type SearchRecord = {
  principal: Principal;
  queryId: string;
  /** The query as the caller typed it (trimmed; cut to {@link MAX_RECORDED_QUERY_CHARS}). */
  query: string;
  /** The normalised query: the report groups by it. */
  normalized: string;
  mode: string;
  locale: string | null;
  /** Items found (the response's `total`). */
  resultCount: number;
  latencyMs: number;
  cache: 'hit' | 'miss';
  degraded: boolean;
  /** The filters the search was narrowed by (none: the query alone decided what it found). */
  filters?: SearchFilters;
};

/**
 * The filters of a search as its event records them, under the API's names, or null when it had
 * none. Empty lists count as no filter. `locale` is not a filter here: it picks the language
 * the query is searched in, and is recorded on its own.
 */
export function recordedFilters(filters: SearchFilters = {}): Record<string, unknown> | null {
  const recorded: Record<string, unknown> = {
    ...(filters.categories?.length ? { category: filters.categories } : {}),
    ...(filters.tags?.length ? { tags: filters.tags } : {}),
    ...(filters.statuses?.length ? { status: filters.statuses } : {}),
    ...(filters.publishedFrom ? { published_from: filters.publishedFrom.toISOString() } : {}),
    ...(filters.publishedTo ? { published_to: filters.publishedTo.toISOString() } : {}),
    ...(filters.metadata && Object.keys(filters.metadata).length > 0
      ? { metadata: filters.metadata }
      : {}),
  };
  return Object.keys(recorded).length > 0 ? recorded : null;
}

/** The bytes of `data` as an event stores it. */
const dataBytes = (data: Record<string, unknown>) => encoder.encode(JSON.stringify(data)).length;

/**
 * Records a search as a `search.performed` event on `EVENTS`, after the response
 * (`waitUntil`). It never fails the search: a refused send or a bad record is logged as a
 * warning and dropped, since analytics are worth less than an answer. `data.filtered` says
 * whether filters narrowed it and `data.filters` names them ({@link recordedFilters}; null
 * when there were none, or too many to fit the event).
 */
export function recordSearch(
  services: Pick<Services, 'enqueue' | 'waitUntil' | 'logger'>,
  search: SearchRecord,
): void {
  const sent = (async () => {
    const filters = recordedFilters(search.filters);
    const data: Record<string, unknown> = {
      query: search.query.trim().slice(0, MAX_RECORDED_QUERY_CHARS),
      normalized: search.normalized.slice(0, MAX_RECORDED_QUERY_CHARS),
      mode: search.mode,
      locale: search.locale,
      result_count: search.resultCount,
      latency_ms: Math.max(0, Math.round(search.latencyMs)),
      cache: search.cache,
      degraded: search.degraded,
      filtered: filters !== null,
      filters,
    };
    // Long filter lists can outgrow an event: the search still counts as filtered, unlisted.
    if (dataBytes(data) > MAX_EVENT_DATA_BYTES) data.filters = null;
    const event = engagementEvent({
      type: 'search.performed',
      principal: search.principal,
      queryId: search.queryId,
      data,
    });
    await services.enqueue('events', ENGAGEMENT_EVENT, event, { orgId: event.org_id });
  })().catch((error: unknown) => {
    services.logger.warn('search not recorded', {
      query_id: search.queryId,
      error: error instanceof Error ? error.message : String(error),
    });
  });
  services.waitUntil(sent);
}

/**
 * Writes `events` in one statement, each once however often it is delivered (`on conflict
 * (id, occurred_at) do nothing`, which also folds duplicates within the batch). Events of an
 * organisation that no longer exists are dropped, not retried: its rows would be deleted with
 * it anyway. Returns how many rows were new.
 */
export async function persistEngagementEvents(
  db: Database,
  events: readonly EngagementEvent[],
): Promise<number> {
  if (events.length === 0) return 0;
  const result = await db.execute(sql`
    insert into events (id, occurred_at, org_id, type, user_id, anonymous_id, session_id,
      content_id, query_id, data)
    select e.id, e.occurred_at, e.org_id, e.type, e.user_id, e.anonymous_id, e.session_id,
      e.content_id, e.query_id, e.data
    from jsonb_to_recordset(${JSON.stringify(events)}::jsonb) as e(
      id text, occurred_at timestamptz, org_id text, type text, user_id text,
      anonymous_id text, session_id text, content_id text, query_id text, data jsonb)
    where exists (select 1 from organizations o where o.id = e.org_id)
    on conflict (id, occurred_at) do nothing
    returning id`);
  return rowsOf(result).length;
}

/** The report's window when the caller gives none, and the longest it may be. */
export const DEFAULT_WINDOW_DAYS = 7;
export const MAX_WINDOW_DAYS = 90;
const DAY_MS = 86_400_000;

export type AnalyticsWindow =
  | { ok: true; from: Date; to: Date }
  | { ok: false; field: 'from' | 'to'; message: string };

/**
 * The report's window, `[from, to)`: `to` defaults to `now`, `from` to
 * {@link DEFAULT_WINDOW_DAYS} days before `to`. `from` must come before `to`, and the window
 * may span at most {@link MAX_WINDOW_DAYS} days; otherwise the failure names the field.
 */
export function analyticsWindow(
  query: { from?: string | undefined; to?: string | undefined },
  now: Date,
): AnalyticsWindow {
  const to = query.to ? new Date(query.to) : now;
  const from = query.from
    ? new Date(query.from)
    : new Date(to.getTime() - DEFAULT_WINDOW_DAYS * DAY_MS);
  if (from.getTime() >= to.getTime()) {
    return query.to
      ? { ok: false, field: 'to', message: 'must be later than from' }
      : { ok: false, field: 'from', message: 'must be earlier than to (now, when to is absent)' };
  }
  if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * DAY_MS) {
    return {
      ok: false,
      field: 'from',
      message: `must be at most ${MAX_WINDOW_DAYS} days before to`,
    };
  }
  return { ok: true, from, to };
}

export type TopQuery = {
  /** The normalised query. */
  query: string;
  searches: number;
  /** Result clicks on these searches' results. */
  clicks: number;
  /** Searches with at least one click, over searches. */
  click_through_rate: number;
  avg_results: number;
};

export type ZeroResultQuery = { query: string; searches: number; last_searched_at: string };

/** Filtered searches that found nothing, by query and the filters they were narrowed by. */
export type FilteredZeroResultQuery = ZeroResultQuery & {
  /** As {@link recordedFilters} records them; null when they were too many to record. */
  filters: Record<string, unknown> | null;
};

export type SearchTotals = {
  searches: number;
  /** Every result click in the window (also those on searches from before it). */
  clicks: number;
  searches_with_clicks: number;
  click_through_rate: number;
  /** Searches narrowed by filters (category, tags, status, publication dates, metadata). */
  filtered_searches: number;
  /** Unfiltered searches that found nothing, over unfiltered searches. */
  zero_result_rate: number;
  /** Filtered searches that found nothing, over filtered searches. */
  filtered_zero_result_rate: number;
  /** Null when there was no search. */
  p50_latency_ms: number | null;
  p95_latency_ms: number | null;
};

export type SearchAnalytics = {
  from: string;
  to: string;
  top_queries: TopQuery[];
  zero_result_queries: ZeroResultQuery[];
  filtered_zero_result_queries: FilteredZeroResultQuery[];
  totals: SearchTotals;
};

/** A number from `data`, or null when the field is absent or not a number. */
const dataNumber = (field: string) =>
  sql.raw(
    `case when jsonb_typeof(data->'${field}') = 'number' then (data->>'${field}')::float8 end`,
  );

type ReportRow = {
  top_queries: {
    query: string;
    searches: number;
    clicks: number;
    searches_with_clicks: number;
    avg_results: number | null;
  }[];
  zero_result_queries: { query: string; searches: number; last_searched_at: string }[];
  filtered_zero_result_queries: {
    query: string;
    filters: Record<string, unknown> | null;
    searches: number;
    last_searched_at: string;
  }[];
  totals: {
    searches: number;
    searches_with_clicks: number;
    filtered_searches: number;
    zero_results: number;
    filtered_zero_results: number;
    p50: number | null;
    p95: number | null;
  };
  clicks: number | string;
};

const ratio = (part: number, whole: number) => (whole > 0 ? part / whole : 0);

/**
 * The organisation's search report over `[from, to)`: the `limit` most searched queries (by
 * normalised text) with their clicks, click-through rate (searches with at least one click,
 * over searches) and average result count; the `limit` most searched queries that found
 * nothing without filters (the organisation has nothing for them); apart from those, the
 * `limit` most frequent filtered searches that found nothing, by query and filters (the filters
 * excluded what the query found, or it found nothing anyway: its unfiltered searches tell);
 * and totals with the median and 95th-percentile latency. Searches recorded before filters were
 * (no `data.filtered`) count as unfiltered. Searches and clicks count when they happened inside
 * the window; a click belongs to the search whose `query_id` it carries. One statement, whose
 * scans use the (org_id, type, occurred_at) index.
 */
export async function searchAnalytics(
  db: Database,
  orgId: string,
  window: { from: Date; to: Date; limit: number },
): Promise<SearchAnalytics> {
  const from = window.from.toISOString();
  const to = window.to.toISOString();
  const result = await db.execute(sql`
    with searches as (
      select query_id, coalesce(data->>'normalized', '') as query, occurred_at,
        ${dataNumber('result_count')} as results, ${dataNumber('latency_ms')} as latency_ms,
        coalesce(data->'filtered' = 'true'::jsonb, false) as filtered,
        case when jsonb_typeof(data->'filters') = 'object' then data->'filters' end as filters
      from events
      where org_id = ${orgId} and type = 'search.performed'
        and occurred_at >= ${from} and occurred_at < ${to}
    ),
    clicks as (
      select query_id, count(*)::int as clicks
      from events
      where org_id = ${orgId} and type = 'search.result_clicked'
        and occurred_at >= ${from} and occurred_at < ${to}
      group by query_id
    ),
    scored as (
      select s.*, coalesce(c.clicks, 0) as clicks
      from searches s left join clicks c on c.query_id = s.query_id
    ),
    top as (
      select query, count(*)::int as searches, sum(clicks)::int as clicks,
        (count(*) filter (where clicks > 0))::int as searches_with_clicks,
        avg(results)::float8 as avg_results
      from scored group by query
      order by searches desc, query limit ${window.limit}
    ),
    zero as (
      select query, count(*)::int as searches, max(occurred_at) as last_searched_at
      from scored where results = 0 and not filtered group by query
      order by searches desc, last_searched_at desc, query limit ${window.limit}
    ),
    filtered_zero as (
      select query, filters, count(*)::int as searches, max(occurred_at) as last_searched_at
      from scored where results = 0 and filtered group by query, filters
      order by searches desc, last_searched_at desc, query, filters::text limit ${window.limit}
    )
    select
      (select coalesce(json_agg(t order by t.searches desc, t.query), '[]') from top t)
        as top_queries,
      (select coalesce(
        json_agg(z order by z.searches desc, z.last_searched_at desc, z.query), '[]')
        from zero z) as zero_result_queries,
      (select coalesce(json_agg(f order by
          f.searches desc, f.last_searched_at desc, f.query, f.filters::text), '[]')
        from filtered_zero f) as filtered_zero_result_queries,
      (select json_build_object(
        'searches', count(*),
        'searches_with_clicks', count(*) filter (where clicks > 0),
        'filtered_searches', count(*) filter (where filtered),
        'zero_results', count(*) filter (where results = 0 and not filtered),
        'filtered_zero_results', count(*) filter (where results = 0 and filtered),
        'p50', percentile_cont(0.5) within group (order by latency_ms),
        'p95', percentile_cont(0.95) within group (order by latency_ms))
        from scored) as totals,
      (select coalesce(sum(clicks), 0)::int from clicks) as clicks`);
  const row = rowsOf(result)[0] as ReportRow;
  const { totals } = row;
  return {
    from,
    to,
    top_queries: row.top_queries.map((q) => ({
      query: q.query,
      searches: q.searches,
      clicks: q.clicks,
      click_through_rate: ratio(q.searches_with_clicks, q.searches),
      avg_results: q.avg_results ?? 0,
    })),
    zero_result_queries: row.zero_result_queries.map((q) => ({
      query: q.query,
      searches: q.searches,
      last_searched_at: new Date(q.last_searched_at).toISOString(),
    })),
    filtered_zero_result_queries: row.filtered_zero_result_queries.map((q) => ({
      query: q.query,
      filters: q.filters,
      searches: q.searches,
      last_searched_at: new Date(q.last_searched_at).toISOString(),
    })),
    totals: {
      searches: totals.searches,
      clicks: Number(row.clicks),
      searches_with_clicks: totals.searches_with_clicks,
      click_through_rate: ratio(totals.searches_with_clicks, totals.searches),
      filtered_searches: totals.filtered_searches,
      zero_result_rate: ratio(totals.zero_results, totals.searches - totals.filtered_searches),
      filtered_zero_result_rate: ratio(totals.filtered_zero_results, totals.filtered_searches),
      p50_latency_ms: totals.p50,
      p95_latency_ms: totals.p95,
    },
  };
}
