import { sql } from 'drizzle-orm';
import { rowsOf } from '../search/database.ts';
import { engagementTypes, typeWeights } from '../search/features.ts';
import type { Services } from '../services.ts';
import { type Bucket, scoreTopic, type TopicScore } from './score.ts';
import { SERIES_DAYS } from './settings.ts';

const HOUR = 3_600_000;

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
  const currentHour = Math.floor(now.getTime() / HOUR) * HOUR;
  const hours = SERIES_DAYS * 24;
  const start = currentHour - (hours - 1) * HOUR;
  const rows = rowsOf(
    await services.guard('postgres', () =>
      services.db.execute(sql`
        select e.content_id,
          date_bin('1 hour', e.occurred_at, timestamptz '1970-01-01T00:00:00Z') as hour,
          sum(case e.type ${typeWeights()} else 0 end)::float8 as engagement
        from events e
        where e.org_id = ${orgId}
          and e.content_id in (${sql.join(
            contentIds.map((id) => sql`${id}`),
            sql`, `,
          )})
          and e.type in (${engagementTypes()})
          and e.occurred_at >= ${new Date(start).toISOString()}
          and e.occurred_at <= ${now.toISOString()}
        group by 1, 2`),
    ),
  ) as { content_id: string; hour: string | Date; engagement: number | string }[];
  const series = new Map<string, Bucket[]>(
    contentIds.map((id) => [
      id,
      Array.from({ length: hours }, () => ({ newItems: 0, engagement: 0 })),
    ]),
  );
  for (const row of rows) {
    const i = Math.round((new Date(row.hour).getTime() - start) / HOUR);
    const list = series.get(row.content_id);
    if (list && i >= 0 && i < hours) list[i]!.engagement = Number(row.engagement);
  }
  const fraction = (now.getTime() - currentHour) / HOUR;
  return new Map(
    [...series].map(([id, buckets]) => [id, scoreTopic(buckets, undefined, fraction)]),
  );
}
