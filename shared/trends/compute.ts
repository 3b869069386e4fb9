import { sql } from 'drizzle-orm';
import { REALTIME_PUBLISH, type RealtimePublish, WEBHOOK_DISPATCH } from '../content/fanout.ts';
import type { PooledDatabase } from '../db/client.ts';
import type { TopicKeywordsColumn } from '../db/schema/trends.ts';
import { newId } from '../ids.ts';
import { rowsOf } from '../search/database.ts';
import { engagementTypes, typeWeights } from '../search/features.ts';
import { searchEntryId } from '../search/index-entry.ts';
import { indexNamespaces } from '../search/namespace.ts';
import type { Services } from '../services.ts';
import {
  CLUSTER_DEFAULTS,
  type ClusterOptions,
  type ClusterTopic,
  centroidOf,
  clusterStep,
  dot,
  type Member,
  normalise,
  type TopicChange,
} from './cluster.ts';
import { TREND_DETECTED, type TrendDetectedEvent, trendDetectedId } from './events.ts';
import { topicKeywords } from './keywords.ts';
import { type Lifecycle, SCORE_DEFAULTS, scoreTopic } from './score.ts';
import { denseSeries, hourOf, seriesWindow } from './series.ts';
import {
  MAX_NEW_ITEMS_PER_RUN,
  MIN_TOPIC_ITEMS,
  RETIRE_DAYS,
  SERIES_DAYS,
  TOPIC_WINDOW_DAYS,
} from './settings.ts';

/**
 * The `compute-trends` job for one organisation (run by cron every five minutes):
 *
 * 1. **Cluster.** Published items first published, or engaged with, in the last
 *    {@link TOPIC_WINDOW_DAYS} days that are in no topic yet (both languages: an item's vector is
 *    the normalised mean of its translations' dense vectors in the organisation's search index)
 *    go through one {@link clusterStep} with the active topics. Items not indexed yet wait for
 *    the next run. Members no longer published leave their topic.
 * 2. **Describe.** Topics whose members changed get their keywords (c-TF-IDF, per language),
 *    label (the title of the member nearest the centroid), category (their members' most
 *    common) and locales again.
 * 3. **Count.** Each active topic's hourly series (items published, weighted engagement with
 *    its members) is recounted from Postgres: the last {@link SERIES_DAYS} days for topics
 *    whose members changed, the last two hours for the others.
 * 4. **Score.** Each active topic's latest hour is scored ({@link scoreTopic}); a topic found
 *    trending (`emerging`, `rising` or `peaking`) for the first time gets a `trend.detected`
 *    event (real-time and webhooks, through `JOBS`), sent before `detected_at` is set, so a
 *    failed send is retried next run and a repeat is dropped downstream by the event's id. (A
 *    topic whose only significant hours are past, `declining`, is not announced late.)
 * 5. **Retire.** Active topics with no new member for {@link RETIRE_DAYS} days and no
 *    lifecycle stop taking items (`retired`).
 *
 * The whole run is one transaction under an advisory lock per organisation: a run that finds
 * another still going for the organisation skips it.
 */

const HOUR = 3_600_000;
const DAY = 86_400_000;

export type ComputeOptions = { cluster?: ClusterOptions; now?: Date };

export type ComputeOutcome = {
  skipped?: 'busy';
  clustered: number;
  created: number;
  merged: number;
  split: number;
  retired: number;
  scored: number;
  detected: string[];
};

type TrendServices = Pick<
  Services,
  'db' | 'transaction' | 'vector' | 'redis' | 'guard' | 'logger' | 'enqueue'
>;

/** Runs the job for `orgId`. See the module comment. */
export async function computeTrends(
  services: TrendServices,
  orgId: string,
  options: ComputeOptions = {},
): Promise<ComputeOutcome> {
  const now = options.now ?? new Date();
  const clusterOptions = options.cluster ?? CLUSTER_DEFAULTS;
  return services.guard('postgres', () =>
    services.transaction(async (tx) => {
      const [lock] = rowsOf(
        await tx.execute(
          sql`select pg_try_advisory_xact_lock(hashtextextended(${`trends:${orgId}`}, 0)) as locked`,
        ),
      ) as { locked: boolean }[];
      const outcome: ComputeOutcome = {
        clustered: 0,
        created: 0,
        merged: 0,
        split: 0,
        retired: 0,
        scored: 0,
        detected: [],
      };
      if (!lock?.locked) return { ...outcome, skipped: 'busy' as const };
      const shrunk = await dropUnpublished(tx, orgId);
      const changed = await cluster(services, tx, orgId, now, clusterOptions, shrunk, outcome);
      await describe(tx, orgId, changed);
      await refreshSeries(
        tx,
        orgId,
        [...changed],
        new Date(now.getTime() - SERIES_DAYS * DAY),
        now,
      );
      await refreshSeries(tx, orgId, null, new Date(now.getTime() - 2 * HOUR), now);
      const detected = await score(tx, orgId, now, outcome);
      outcome.retired = await retire(tx, orgId, now);
      if (detected.length > 0) {
        await announce(services, orgId, detected);
        await tx.execute(sql`
          update topics set detected_at = ${now.toISOString()}
          where org_id = ${orgId} and detected_at is null
            and id in (${sql.join(
              detected.map((e) => sql`${e.data.topic.id}`),
              sql`, `,
            )})`);
        outcome.detected = detected.map((e) => e.data.topic.id);
      }
      return outcome;
    }),
  );
}

/**
 * Members whose item is no longer published (or was deleted) leave their topic; returns the
 * topics that lost some.
 */
async function dropUnpublished(tx: PooledDatabase, orgId: string): Promise<Set<string>> {
  const dropped = rowsOf(
    await tx.execute(sql`
      delete from topic_members m using content c
      where m.org_id = ${orgId} and c.org_id = m.org_id and c.id = m.content_id
        and (c.status <> 'published' or c.deleted_at is not null)
      returning m.topic_id`),
  ) as { topic_id: string }[];
  return new Set(dropped.map((row) => row.topic_id));
}

const vectorOf = (value: unknown): number[] =>
  Array.isArray(value)
    ? value.map(Number)
    : String(value).replace(/[{}]/g, '').split(',').map(Number);

/**
 * Step 1: the new items into topics; returns the ids of the active topics that changed (`shrunk`:
 * those that lost members, whose centroid and size are written again too).
 */
async function cluster(
  services: TrendServices,
  tx: PooledDatabase,
  orgId: string,
  now: Date,
  options: ClusterOptions,
  shrunk: ReadonlySet<string>,
  outcome: ComputeOutcome,
): Promise<Set<string>> {
  const since = new Date(now.getTime() - TOPIC_WINDOW_DAYS * DAY).toISOString();
  const candidates = rowsOf(
    await tx.execute(sql`
      select c.id, c.published_at,
        array(select t.locale from content_translations t
          where t.org_id = c.org_id and t.content_id = c.id and t.deleted_at is null
          order by t.locale) as locales
      from content c
      where c.org_id = ${orgId} and c.status = 'published' and c.deleted_at is null
        and c.published_at is not null and c.published_at <= ${now.toISOString()}
        and not exists (select 1 from topic_members m where m.org_id = c.org_id and m.content_id = c.id)
        and (c.published_at >= ${since}
          or exists (select 1 from events e
            where e.org_id = c.org_id and e.content_id = c.id and e.type in (${engagementTypes()})
              and e.occurred_at >= ${since} and e.occurred_at <= ${now.toISOString()}))
      order by c.published_at, c.id
      limit ${MAX_NEW_ITEMS_PER_RUN}`),
  ) as { id: string; published_at: string | Date; locales: string[] }[];
  const items: Member[] = [];
  if (candidates.length > 0) {
    // The index down: the new items wait for a run that can read their vectors; the topics are
    // still counted and scored.
    const vectors = await itemVectors(
      services,
      orgId,
      candidates.map((c) => ({ id: c.id, locales: c.locales })),
    ).catch((error: unknown) => {
      services.logger.warn('trends: item vectors unavailable; clustering waits', {
        org_id: orgId,
        error,
      });
      return new Map<string, number[]>();
    });
    for (const c of candidates) {
      const vector = vectors.get(c.id);
      if (vector) items.push({ id: c.id, vector, at: new Date(c.published_at).getTime() });
    }
  }
  // Nothing new: the topics are as the last run left them (merges and splits only follow new
  // members), so their members' vectors need not be read.
  if (items.length === 0 && shrunk.size === 0) return new Set();
  const topicRows = rowsOf(
    await tx.execute(sql`
      select t.id, t.created_at, m.content_id, m.vector, m.published_at
      from topics t join topic_members m on m.org_id = t.org_id and m.topic_id = t.id
      where t.org_id = ${orgId} and t.status = 'active'
      order by t.id, m.published_at, m.content_id`),
  ) as {
    id: string;
    created_at: string | Date;
    content_id: string;
    vector: unknown;
    published_at: string | Date;
  }[];
  const existing = new Map<string, ClusterTopic>();
  for (const row of topicRows) {
    const topic = existing.get(row.id) ?? {
      id: row.id,
      createdAt: new Date(row.created_at).getTime(),
      members: [],
    };
    topic.members.push({
      id: row.content_id,
      vector: vectorOf(row.vector),
      at: new Date(row.published_at).getTime(),
    });
    existing.set(row.id, topic);
  }
  const result = clusterStep(
    [...existing.values()],
    items,
    options,
    () => newId('topic', now.getTime()),
    now.getTime(),
  );
  for (const id of shrunk)
    if (existing.has(id) && !result.merged.some((m) => m.id === id)) result.changed.add(id);
  outcome.clustered = items.length;
  const at = now.toISOString();
  const byId = new Map(result.topics.map((t) => [t.id, t]));
  const isNew = (id: string) => !existing.has(id);
  // Topics first (new ones inserted, changed ones updated), then members, then lineage.
  for (const id of [...result.changed].sort()) {
    const topic = byId.get(id)!;
    const centroid = centroidOf(topic.members.map((m) => m.vector));
    const first = Math.min(...topic.members.map((m) => m.at));
    const last = Math.max(...topic.members.map((m) => m.at));
    const centroidSql = sql`${`{${centroid.join(',')}}`}::real[]`;
    if (isNew(id)) {
      await tx.execute(sql`
        insert into topics (id, org_id, centroid, size, first_seen, last_seen, created_at)
        values (${id}, ${orgId}, ${centroidSql}, ${topic.members.length},
          ${new Date(first).toISOString()}, ${new Date(last).toISOString()}, ${at})`);
    } else {
      await tx.execute(sql`
        update topics set centroid = ${centroidSql}, size = ${topic.members.length},
          last_seen = greatest(last_seen, ${new Date(last).toISOString()}::timestamptz),
          updated_at = ${at}
        where org_id = ${orgId} and id = ${id}`);
    }
  }
  for (const { id, into } of result.merged) {
    await tx.execute(sql`
      update topics set status = 'merged', merged_into = ${into}, size = 0, lifecycle = null,
        updated_at = ${at}
      where org_id = ${orgId} and id = ${id}`);
  }
  for (const id of [...result.changed].sort()) {
    const topic = byId.get(id)!;
    const centroid = centroidOf(topic.members.map((m) => m.vector));
    for (let i = 0; i < topic.members.length; i += 200) {
      const chunk = topic.members.slice(i, i + 200);
      await tx.execute(sql`
        insert into topic_members (org_id, content_id, topic_id, similarity, vector, published_at)
        values ${sql.join(
          chunk.map(
            (m) =>
              sql`(${orgId}, ${m.id}, ${id}, ${dot(m.vector, centroid)},
                ${`{${m.vector.join(',')}}`}::real[], ${new Date(m.at).toISOString()})`,
          ),
          sql`, `,
        )}
        on conflict (org_id, content_id) do update set topic_id = excluded.topic_id,
          similarity = excluded.similarity`);
    }
  }
  await recordChanges(tx, orgId, result.changes, at);
  outcome.created = result.changes.filter((c) => c.kind === 'created').length;
  outcome.merged = result.merged.length;
  outcome.split = result.changes.filter((c) => c.kind === 'split').length;
  return result.changed;
}

/** Lineage rows for `changes`, all at `at`. */
async function recordChanges(
  tx: PooledDatabase,
  orgId: string,
  changes: readonly TopicChange[],
  at: string,
) {
  if (changes.length === 0) return;
  const related = (c: TopicChange) =>
    c.kind === 'merged'
      ? c.into
      : c.kind === 'absorbed' || c.kind === 'split_from'
        ? c.from
        : c.kind === 'split'
          ? c.to
          : null;
  await tx.execute(sql`
    insert into topic_changes (org_id, topic_id, kind, related, size, at)
    values ${sql.join(
      changes.map((c) => sql`(${orgId}, ${c.topicId}, ${c.kind}, ${related(c)}, ${c.size}, ${at})`),
      sql`, `,
    )}`);
}

/**
 * The dense vector of each item: the normalised mean of its translations' vectors in the
 * organisation's active search index (none for an item not indexed yet).
 */
async function itemVectors(
  services: TrendServices,
  orgId: string,
  items: readonly { id: string; locales: readonly string[] }[],
): Promise<Map<string, number[]>> {
  const { active } = await indexNamespaces(services, orgId);
  const namespace = services.vector.namespace(active);
  const ids = items.flatMap((item) => item.locales.map((locale) => searchEntryId(item.id, locale)));
  const sums = new Map<string, number[]>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const entries = await services.guard('vector', () =>
      namespace.fetch(chunk, { includeVectors: true }),
    );
    entries.forEach((entry, k) => {
      if (!entry?.vector || entry.vector.length === 0) return;
      const id = chunk[k]!.slice(0, chunk[k]!.lastIndexOf(':'));
      const sum = sums.get(id);
      if (!sum) sums.set(id, [...entry.vector]);
      else for (let d = 0; d < sum.length; d++) sum[d]! += entry.vector[d] ?? 0;
    });
  }
  return new Map([...sums].map(([id, sum]) => [id, normalise(sum)]));
}

/**
 * Step 2: keywords (over every active topic, so the IDF compares them all), label, category and
 * locales of the topics that changed.
 */
async function describe(tx: PooledDatabase, orgId: string, changed: ReadonlySet<string>) {
  if (changed.size === 0) return;
  const rows = rowsOf(
    await tx.execute(sql`
      select m.topic_id, m.content_id, m.similarity, c.category_id, c.default_locale,
        t.locale, t.title, t.summary
      from topic_members m
      join topics p on p.org_id = m.org_id and p.id = m.topic_id and p.status = 'active'
      join content c on c.org_id = m.org_id and c.id = m.content_id
      join content_translations t on t.org_id = m.org_id and t.content_id = m.content_id
        and t.deleted_at is null
      where m.org_id = ${orgId}
      order by m.topic_id, m.similarity desc, m.content_id, t.locale`),
  ) as {
    topic_id: string;
    content_id: string;
    similarity: number;
    category_id: string | null;
    default_locale: string;
    locale: string;
    title: string;
    summary: string | null;
  }[];
  const byTopic = new Map<string, typeof rows>();
  const texts = new Map<string, string[]>();
  for (const row of rows) {
    if (!byTopic.has(row.topic_id)) {
      byTopic.set(row.topic_id, []);
      texts.set(row.topic_id, []);
    }
    byTopic.get(row.topic_id)!.push(row);
    // The title counts twice: it says what the item is about more surely than the summary.
    texts.get(row.topic_id)!.push(row.title, row.title, row.summary ?? '');
  }
  const keywords = topicKeywords(texts);
  for (const id of [...changed].sort()) {
    const own = byTopic.get(id) ?? [];
    if (own.length === 0) continue;
    // Rows come nearest the centroid first: the label is that item's title in its own language.
    const top = own[0]!;
    const label =
      own.find((r) => r.content_id === top.content_id && r.locale === top.default_locale)?.title ??
      top.title;
    const categories = new Map<string, number>();
    const seen = new Set<string>();
    for (const r of own) {
      if (seen.has(r.content_id)) continue;
      seen.add(r.content_id);
      if (r.category_id) categories.set(r.category_id, (categories.get(r.category_id) ?? 0) + 1);
    }
    const category =
      [...categories].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? null;
    const locales = [...new Set(own.map((r) => r.locale))].sort();
    const words: TopicKeywordsColumn = keywords.get(id) ?? { ar: [], en: [] };
    await tx.execute(sql`
      update topics set label = ${label}, keywords = ${JSON.stringify(words)}::jsonb,
        category_id = ${category}, locales = ${`{${locales.map((l) => `"${l}"`).join(',')}}`}::text[]
      where org_id = ${orgId} and id = ${id}`);
  }
}

/**
 * Step 3: recounts the hourly series of the active topics (`topicIds`, or all when null) over
 * [since, until]: items published in each hour, and the weighted engagement with their members.
 * Hours are UTC hours whatever the session's time zone (`date_bin` from the epoch).
 */
export async function refreshSeries(
  tx: PooledDatabase,
  orgId: string,
  topicIds: readonly string[] | null,
  since: Date,
  until: Date,
) {
  if (topicIds && topicIds.length === 0) return;
  const from = new Date(Math.floor(since.getTime() / HOUR) * HOUR).toISOString();
  const to = until.toISOString();
  const only = topicIds
    ? sql`and t.id in (${sql.join(
        topicIds.map((id) => sql`${id}`),
        sql`, `,
      )})`
    : sql``;
  await tx.execute(sql`
    delete from topic_series s using topics t
    where s.org_id = ${orgId} and t.org_id = s.org_id and t.id = s.topic_id
      and t.status = 'active' ${only} and s.hour >= ${from}`);
  await tx.execute(sql`
    insert into topic_series (org_id, topic_id, hour, new_items, engagement)
    select ${orgId}, topic_id, hour, sum(new_items)::int, sum(engagement)::float8
    from (
      select m.topic_id, ${hourOf(sql`m.published_at`)} as hour, 1 as new_items, 0::float8 as engagement
      from topic_members m join topics t on t.org_id = m.org_id and t.id = m.topic_id
      where m.org_id = ${orgId} and t.status = 'active' ${only}
        and m.published_at >= ${from} and m.published_at <= ${to}
      union all
      select m.topic_id, ${hourOf(sql`e.occurred_at`)}, 0, (case e.type ${typeWeights()} else 0 end)::float8
      from events e
      join topic_members m on m.org_id = e.org_id and m.content_id = e.content_id
      join topics t on t.org_id = m.org_id and t.id = m.topic_id
      where e.org_id = ${orgId} and t.status = 'active' ${only}
        and e.type in (${engagementTypes()})
        and e.occurred_at >= ${from} and e.occurred_at <= ${to}
    ) activity
    group by topic_id, hour`);
}

/**
 * Step 4: scores every active topic's last hour and sets its score, lifecycle and last
 * significant hour; returns the `trend.detected` events of the topics trending for the first
 * time.
 */
async function score(
  tx: PooledDatabase,
  orgId: string,
  now: Date,
  outcome: ComputeOutcome,
): Promise<TrendDetectedEvent[]> {
  const { start, hours, fraction } = seriesWindow(now);
  const topics = rowsOf(
    await tx.execute(sql`
      select id, label, keywords, size, category_id, locales, detected_at
      from topics where org_id = ${orgId} and status = 'active'
      order by id`),
  ) as {
    id: string;
    label: string;
    keywords: TopicKeywordsColumn;
    size: number;
    category_id: string | null;
    locales: string[];
    detected_at: string | Date | null;
  }[];
  if (topics.length === 0) return [];
  const series = rowsOf(
    await tx.execute(sql`
      select s.topic_id, s.hour, s.new_items, s.engagement
      from topic_series s join topics t on t.org_id = s.org_id and t.id = s.topic_id
      where s.org_id = ${orgId} and t.status = 'active' and s.hour >= ${new Date(start).toISOString()}`),
  ) as { topic_id: string; hour: string | Date; new_items: number; engagement: number }[];
  const buckets = denseSeries(
    series.map((row) => ({
      key: row.topic_id,
      hour: row.hour,
      newItems: row.new_items,
      engagement: row.engagement,
    })),
    { start, hours },
  );
  const detected: TrendDetectedEvent[] = [];
  const scoredAt = now.toISOString();
  const updates: { id: string; score: number; lifecycle: Lifecycle | null; last: string | null }[] =
    [];
  for (const topic of topics) {
    const list = buckets.get(topic.id);
    const result =
      list && topic.size >= MIN_TOPIC_ITEMS
        ? scoreTopic(list, SCORE_DEFAULTS, fraction)
        : { score: 0, lifecycle: null, significant: false, lastSignificant: null };
    const last =
      result.lastSignificant === null
        ? null
        : new Date(start + result.lastSignificant * HOUR).toISOString();
    updates.push({ id: topic.id, score: result.score, lifecycle: result.lifecycle, last });
    const hot =
      result.lifecycle === 'emerging' ||
      result.lifecycle === 'rising' ||
      result.lifecycle === 'peaking';
    if (hot && topic.detected_at === null) {
      detected.push({
        id: trendDetectedId(topic.id),
        type: TREND_DETECTED,
        occurred_at: scoredAt,
        data: {
          topic: {
            id: topic.id,
            label: topic.label,
            keywords: topic.keywords,
            lifecycle: result.lifecycle,
            score: result.score,
            size: topic.size,
            category_id: topic.category_id,
            locales: topic.locales,
            url: `/v1/trends/${topic.id}`,
          },
        },
      });
    }
  }
  await tx.execute(sql`
    update topics t set score = u.score, lifecycle = u.lifecycle::trend_lifecycle,
      last_significant_at = coalesce(u.last::timestamptz, t.last_significant_at),
      scored_at = ${scoredAt}
    from (values ${sql.join(
      updates.map((u) => sql`(${u.id}, ${u.score}::float8, ${u.lifecycle}, ${u.last})`),
      sql`, `,
    )}) as u(id, score, lifecycle, last)
    where t.org_id = ${orgId} and t.id = u.id`);
  outcome.scored = updates.length;
  return detected;
}

/** Step 5: active topics quiet for {@link RETIRE_DAYS} days, or left empty, are retired. */
async function retire(tx: PooledDatabase, orgId: string, now: Date): Promise<number> {
  const before = new Date(now.getTime() - RETIRE_DAYS * DAY).toISOString();
  const retired = rowsOf(
    await tx.execute(sql`
      update topics t set status = 'retired', lifecycle = null, updated_at = ${now.toISOString()}
      where t.org_id = ${orgId} and t.status = 'active'
        and ((t.last_seen < ${before} and t.lifecycle is null)
          or not exists (select 1 from topic_members m where m.org_id = t.org_id and m.topic_id = t.id))
      returning t.id, t.size`),
  ) as { id: string; size: number }[];
  await recordChanges(
    tx,
    orgId,
    retired.map((r) => ({ kind: 'retired', topicId: r.id, size: r.size })),
    now.toISOString(),
  );
  return retired.length;
}

/** Sends each `trend.detected` event to the organisation's channel and webhook endpoints. */
async function announce(services: TrendServices, orgId: string, events: TrendDetectedEvent[]) {
  for (const event of events) {
    const realtime: RealtimePublish = { org_id: orgId, channels: [`org:${orgId}`], event };
    await services.enqueue('jobs', REALTIME_PUBLISH, realtime, { orgId });
    await services.enqueue('jobs', WEBHOOK_DISPATCH, { org_id: orgId, event }, { orgId });
  }
}
