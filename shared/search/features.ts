import { sql } from 'drizzle-orm';

import { type Database, rowsOf } from './database.ts';

/** How far back engagement counts for popularity and for a reader's category affinity. */
export const ENGAGEMENT_WINDOW_DAYS = 30;

/** The engagement events that count, and how much each is worth. */
export const ENGAGEMENT_WEIGHTS: Readonly<Record<string, number>> = {
  'content.viewed': 1,
  'content.clicked': 2,
  'search.result_clicked': 2,
  'recommendation.clicked': 2,
  'content.liked': 2,
  'content.shared': 3,
  'content.converted': 4,
};

/** `case <type> when … then <weight>`'s arms, for SQL that weighs events by type. */
export const typeWeights = () =>
  sql.join(
    Object.entries(ENGAGEMENT_WEIGHTS).map(([type, weight]) => sql`when ${type} then ${weight}`),
    sql` `,
  );

/** The engagement types that count, as a SQL list. */
export const engagementTypes = () =>
  sql.join(
    Object.keys(ENGAGEMENT_WEIGHTS).map((type) => sql`${type}`),
    sql`, `,
  );

/**
 * Popularity in [0, 1] of each of `contentIds`: its weighted engagement over the last
 * {@link ENGAGEMENT_WINDOW_DAYS} days, log-scaled (ln(1 + e)) against the most engaged of them,
 * so that one viral item does not flatten the rest. Items without engagement get 0 (and are
 * absent from the map).
 */
export async function popularity(
  db: Database,
  orgId: string,
  contentIds: readonly string[],
  now: Date,
): Promise<Map<string, number>> {
  if (contentIds.length === 0) return new Map();
  const since = new Date(now.getTime() - ENGAGEMENT_WINDOW_DAYS * 86_400_000);
  const result = await db.execute(sql`
    select content_id, sum(case type ${typeWeights()} else 0 end)::float8 as engagement
    from events
    where org_id = ${orgId}
      and content_id in (${sql.join(
        contentIds.map((id) => sql`${id}`),
        sql`, `,
      )})
      and type in (${engagementTypes()})
      and occurred_at >= ${since.toISOString()} and occurred_at <= ${now.toISOString()}
    group by content_id`);
  const rows = rowsOf(result) as { content_id: string; engagement: number | string }[];
  const top = Math.max(0, ...rows.map((r) => Math.log1p(Number(r.engagement))));
  return new Map(
    rows.map((r) => [r.content_id, top > 0 ? Math.log1p(Number(r.engagement)) / top : 0]),
  );
}

/**
 * A reader's affinity for each category in [0, 1]: their weighted engagement with the
 * category's items over the last {@link ENGAGEMENT_WINDOW_DAYS} days as a share of their
 * engagement with their favourite category (which gets 1). Empty for a reader with no history.
 */
export async function categoryAffinity(
  db: Database,
  orgId: string,
  userId: string,
  now: Date,
): Promise<Map<string, number>> {
  const since = new Date(now.getTime() - ENGAGEMENT_WINDOW_DAYS * 86_400_000);
  const result = await db.execute(sql`
    select c.category_id, sum(case e.type ${typeWeights()} else 0 end)::float8 as engagement
    from events e
    join content c on c.org_id = e.org_id and c.id = e.content_id
    where e.org_id = ${orgId} and e.user_id = ${userId}
      and e.type in (${engagementTypes()})
      and e.occurred_at >= ${since.toISOString()} and e.occurred_at <= ${now.toISOString()}
      and c.category_id is not null
    group by c.category_id`);
  const rows = rowsOf(result) as { category_id: string; engagement: number | string }[];
  const top = Math.max(0, ...rows.map((r) => Number(r.engagement)));
  return new Map(rows.map((r) => [r.category_id, top > 0 ? Number(r.engagement) / top : 0]));
}
