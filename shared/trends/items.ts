import { sql } from 'drizzle-orm';
import { rowsOf } from '../search/database.ts';
import { engagementTypes, typeWeights } from '../search/features.ts';
import type { Services } from '../services.ts';
import { scoreTopic, type TopicScore } from './score.ts';
import { denseSeries, hourOf, seriesWindow } from './series.ts';
import { SERIES_DAYS } from './settings.ts';

/**
 * Each item's own trend: its weighted engagement per hour over the last {@link SERIES_DAYS}
 * days, scored by the topics' detector ({@link scoreTopic}: seasonal EWMA baseline, z-score of
 * the last two hours, support floor, lifecycle), so an item of a topic says whether it is the
 * one carrying the trend. Counted from `events` when asked (at most a page of items).
 */
export async function itemTrends(
  services: Pick<Services, 'db' | 'guard'>,
  orgId: string,
  contentIds: readonly string[],
  now: Date,
): Promise<Map<string, TopicScore>> {
  if (contentIds.length === 0) return new Map();
  const window = seriesWindow(now);
  const rows = rowsOf(
    await services.guard('postgres', () =>
      services.db.execute(sql`
        select e.content_id, ${hourOf(sql`e.occurred_at`)} as hour,
          sum(case e.type ${typeWeights()} else 0 end)::float8 as engagement
        from events e
        where e.org_id = ${orgId}
          and e.content_id in (${sql.join(
            contentIds.map((id) => sql`${id}`),
            sql`, `,
          )})
          and e.type in (${engagementTypes()})
          and e.occurred_at >= ${new Date(window.start).toISOString()}
          and e.occurred_at <= ${now.toISOString()}
        group by 1, 2`),
    ),
  ) as { content_id: string; hour: string | Date; engagement: number | string }[];
  const series = denseSeries(
    rows.map((row) => ({ key: row.content_id, hour: row.hour, engagement: row.engagement })),
    window,
    contentIds,
  );
  return new Map(
    [...series].map(([id, buckets]) => [id, scoreTopic(buckets, undefined, window.fraction)]),
  );
}
