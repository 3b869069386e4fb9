import { type SQL, sql } from 'drizzle-orm';
import { rowsOf } from '../search/database.ts';
import { ENGAGEMENT_WEIGHTS, engagementTypes, typeWeights } from '../search/features.ts';
import type { Services } from '../services.ts';

/**
 * Who a recommendation is for: any of a signed-in user, a client's session and an anonymous
 * visitor id. Their events together are the reader's history.
 */
export type Reader = {
  userId?: string | undefined;
  sessionId?: string | undefined;
  anonymousId?: string | undefined;
};

/** The reader's identities, as `[kind, id]`, in a fixed order. */
export function identitiesOf(reader: Reader): [kind: 'u' | 's' | 'a', id: string][] {
  const ids: [kind: 'u' | 's' | 'a', id: string][] = [];
  if (reader.userId) ids.push(['u', reader.userId]);
  if (reader.sessionId) ids.push(['s', reader.sessionId]);
  if (reader.anonymousId) ids.push(['a', reader.anonymousId]);
  return ids;
}

/** How many of a reader's latest engaged items Redis keeps, per identity. */
export const RECENT_ITEMS = 100;
/** How long a reader's recent items are kept in Redis after their last event. */
export const RECENT_TTL_SECONDS = 2 * 86_400;
/** How far back a reader's history in Postgres is read. */
export const HISTORY_DAYS = 30;
/** Most distinct items of a reader's history read from Postgres. */
export const MAX_HISTORY_ITEMS = 500;
/** Half-life of a reader's own engagement: last week's read counts half of today's. */
export const HISTORY_HALF_LIFE_DAYS = 7;

/**
 * The Redis sorted set of one identity's recently engaged items: members are content ids,
 * scores the time of the latest event (ms). Written as events are accepted, so a view a second
 * ago is known before the queue has taken it to Postgres.
 */
export const recentKey = (orgId: string, kind: string, id: string) =>
  `recs:recent:${orgId}:${kind}:${id}`;

/** An accepted engagement event, as far as the reader's recent items need it. */
export type NotedEvent = {
  type: string;
  content_id: string | null;
  occurred_at: string;
  user_id?: string | null | undefined;
  session_id?: string | null | undefined;
  anonymous_id?: string | null | undefined;
};

/**
 * Notes accepted events in their readers' recent items (one Redis pipeline): each identity an
 * event names gets its content id at the event's time (a later event moves it up), trimmed to
 * the {@link RECENT_ITEMS} latest. The change also retires the readers' cached recommendations,
 * whose keys include their latest recent item.
 */
export async function noteRecent(
  services: Pick<Services, 'redis' | 'guard'>,
  orgId: string,
  events: readonly NotedEvent[],
): Promise<void> {
  const byKey = new Map<string, Map<string, number>>();
  for (const event of events) {
    if (!event.content_id || ENGAGEMENT_WEIGHTS[event.type] === undefined) continue;
    const at = Date.parse(event.occurred_at);
    const ids = identitiesOf({
      userId: event.user_id ?? undefined,
      sessionId: event.session_id ?? undefined,
      anonymousId: event.anonymous_id ?? undefined,
    });
    for (const [kind, id] of ids) {
      const key = recentKey(orgId, kind, id);
      const items = byKey.get(key) ?? new Map<string, number>();
      items.set(event.content_id, Math.max(items.get(event.content_id) ?? 0, at));
      byKey.set(key, items);
    }
  }
  if (byKey.size === 0) return;
  await services.guard('redis', async () => {
    const pipeline = services.redis.pipeline();
    for (const [key, items] of byKey) {
      const [first, ...rest] = [...items].map(([member, score]) => ({ member, score }));
      // GT: an older event sent late never moves an item back.
      pipeline.zadd(key, { gt: true }, first!, ...rest);
      pipeline.zremrangebyrank(key, 0, -RECENT_ITEMS - 1);
      pipeline.expire(key, RECENT_TTL_SECONDS);
    }
    await pipeline.exec();
  });
}

/** One item of a reader's history: how much they engaged with it (decayed) and when last. */
export type HistoryItem = { contentId: string; weight: number; lastAt: number };

/**
 * The reader's recent items from Redis, newest first (all identities merged). Each counts as
 * one view at its time: Redis keeps no more than that.
 */
export async function recentItems(
  services: Pick<Services, 'redis' | 'guard'>,
  orgId: string,
  reader: Reader,
): Promise<HistoryItem[]> {
  const ids = identitiesOf(reader);
  if (ids.length === 0) return [];
  const answers = await services.guard('redis', async () => {
    const pipeline = services.redis.pipeline();
    for (const [kind, id] of ids) {
      pipeline.zrange(recentKey(orgId, kind, id), 0, -1, { withScores: true });
    }
    return pipeline.exec<(string | number)[][]>();
  });
  const latest = new Map<string, number>();
  for (const answer of answers) {
    for (let i = 0; i + 1 < answer.length; i += 2) {
      const id = String(answer[i]);
      latest.set(id, Math.max(latest.get(id) ?? 0, Number(answer[i + 1])));
    }
  }
  return [...latest]
    .map(([contentId, lastAt]) => ({
      contentId,
      weight: ENGAGEMENT_WEIGHTS['content.viewed']!,
      lastAt,
    }))
    .sort((a, b) => b.lastAt - a.lastAt || a.contentId.localeCompare(b.contentId));
}

/** The SQL condition "event `e` is the reader's" (false for a reader with no identity). */
export function readerMatch(reader: Reader): SQL {
  const parts: SQL[] = [];
  if (reader.userId) parts.push(sql`e.user_id = ${reader.userId}`);
  if (reader.sessionId) parts.push(sql`e.session_id = ${reader.sessionId}`);
  if (reader.anonymousId) parts.push(sql`e.anonymous_id = ${reader.anonymousId}`);
  return parts.length === 0 ? sql`false` : sql`(${sql.join(parts, sql` or `)})`;
}

/**
 * The reader's history in Postgres: the {@link MAX_HISTORY_ITEMS} items they engaged with most
 * recently over {@link HISTORY_DAYS} days, each with its type-weighted engagement halved every
 * {@link HISTORY_HALF_LIFE_DAYS} days, and its category (null when it has none or is gone).
 */
export async function historyItems(
  services: Pick<Services, 'db' | 'guard'>,
  orgId: string,
  reader: Reader,
  now: Date,
): Promise<(HistoryItem & { categoryId: string | null })[]> {
  if (identitiesOf(reader).length === 0) return [];
  const since = new Date(now.getTime() - HISTORY_DAYS * 86_400_000).toISOString();
  const until = now.toISOString();
  const result = await services.guard('postgres', () =>
    services.db.execute(sql`
      select h.content_id, h.weight, h.last_at, c.category_id
      from (
        select e.content_id,
          sum((case e.type ${typeWeights()} else 0 end)
            * power(0.5, extract(epoch from (${until}::timestamptz - e.occurred_at))
              / ${HISTORY_HALF_LIFE_DAYS * 86_400}))::float8 as weight,
          max(e.occurred_at) as last_at
        from events e
        where e.org_id = ${orgId} and ${readerMatch(reader)}
          and e.type in (${engagementTypes()}) and e.content_id is not null
          and e.occurred_at >= ${since} and e.occurred_at <= ${until}
        group by e.content_id
        order by last_at desc
        limit ${MAX_HISTORY_ITEMS}
      ) h
      left join content c on c.org_id = ${orgId} and c.id = h.content_id
      order by h.last_at desc, h.content_id`),
  );
  return (
    rowsOf(result) as {
      content_id: string;
      weight: number | string;
      last_at: string | Date;
      category_id: string | null;
    }[]
  ).map((row) => ({
    contentId: row.content_id,
    weight: Number(row.weight),
    lastAt: new Date(row.last_at).getTime(),
    categoryId: row.category_id,
  }));
}
