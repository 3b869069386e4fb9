import { sql } from 'drizzle-orm';
import { rowsOf } from '../../shared/search/database.ts';
import { computeTrends } from '../../shared/trends/compute.ts';
import { TOPIC_WINDOW_DAYS } from '../../shared/trends/settings.ts';
import type { CronJob } from './types.ts';

/** Most organisations one run computes; the others, least recently scored first, wait. */
export const MAX_ORGS_PER_RUN = 50;

/**
 * Topics and trends (`shared/trends/compute.ts`) for every organisation with something to
 * compute: active topics to score, items published in the last {@link TOPIC_WINDOW_DAYS} days,
 * or engagement in the last hour; least recently scored first, one at a time (each run is one
 * transaction). One organisation failing is logged and does not stop the others.
 */
export const computeTrendsJob: CronJob = {
  name: 'compute-trends',
  async run({ services, logger, scheduledTime }) {
    const now = new Date(scheduledTime);
    const since = new Date(scheduledTime - TOPIC_WINDOW_DAYS * 86_400_000).toISOString();
    const hourAgo = new Date(scheduledTime - 3_600_000).toISOString();
    const orgs = rowsOf(
      await services.guard('postgres', () =>
        services.db.execute(sql`
          select o.id from organizations o
          where exists (select 1 from topics t where t.org_id = o.id and t.status = 'active')
            or exists (select 1 from content c where c.org_id = o.id and c.status = 'published'
              and c.deleted_at is null and c.published_at >= ${since})
            or exists (select 1 from events e where e.org_id = o.id
              and e.occurred_at >= ${hourAgo} and e.content_id is not null)
          order by (select max(t.scored_at) from topics t where t.org_id = o.id) nulls first, o.id
          limit ${MAX_ORGS_PER_RUN}`),
      ),
    ) as { id: string }[];
    let detected = 0;
    let failed = 0;
    for (const { id } of orgs) {
      try {
        const outcome = await computeTrends(services, id, { now });
        detected += outcome.detected.length;
        if (outcome.detected.length > 0) {
          logger.info('trends detected', { org_id: id, topics: outcome.detected });
        }
      } catch (error) {
        failed++;
        logger.error('trends not computed', { org_id: id, error });
      }
    }
    if (failed > 0 && failed === orgs.length) throw new Error('trends: every organisation failed');
    return { organizations: orgs.length, detected, failed };
  },
};
