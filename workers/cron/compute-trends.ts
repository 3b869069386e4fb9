import { sql } from 'drizzle-orm';
import { rowsOf } from '../../shared/search/database.ts';
import { computeTrends } from '../../shared/trends/compute.ts';
import { TOPIC_WINDOW_DAYS } from '../../shared/trends/settings.ts';
import type { CronJob } from './types.ts';

/** Most organisations one run computes; the others, least recently scored first, wait. */
export const MAX_ORGS_PER_RUN = 50;
/**
 * An organisation scored less than this long ago is left for the next run: a trigger fired twice,
 * or a run overlapping the last, does no work twice.
 */
export const RESCORE_AFTER_MS = 4 * 60_000;
/** Organisations computed at once (each is one transaction on its own connection). */
const CONCURRENCY = 4;
/** No organisation is started after this long; the rest wait for the next run. */
export const TIME_BUDGET_MS = 60_000;

/**
 * Topics and trends (`shared/trends/compute.ts`) for every organisation with something to
 * compute: active topics to score, items published in the last {@link TOPIC_WINDOW_DAYS} days,
 * or engagement in the last hour, and not scored in the last {@link RESCORE_AFTER_MS}; least
 * recently scored first, {@link CONCURRENCY} at a time (each is one transaction), none started
 * after {@link TIME_BUDGET_MS}. One organisation failing is logged and does not stop the others.
 */
export const computeTrendsJob: CronJob = {
  name: 'compute-trends',
  async run({ services, logger, scheduledTime }) {
    const now = new Date(scheduledTime);
    const since = new Date(scheduledTime - TOPIC_WINDOW_DAYS * 86_400_000).toISOString();
    const hourAgo = new Date(scheduledTime - 3_600_000).toISOString();
    const fresh = new Date(scheduledTime - RESCORE_AFTER_MS).toISOString();
    const orgs = rowsOf(
      await services.guard('postgres', () =>
        services.db.execute(sql`
          select o.id from organizations o
          cross join lateral (select max(t.scored_at) as scored_at from topics t
            where t.org_id = o.id and t.status = 'active') last
          where (exists (select 1 from topics t where t.org_id = o.id and t.status = 'active')
              or exists (select 1 from content c where c.org_id = o.id and c.status = 'published'
                and c.deleted_at is null and c.published_at >= ${since})
              or exists (select 1 from events e where e.org_id = o.id
                and e.occurred_at >= ${hourAgo} and e.content_id is not null))
            and (last.scored_at is null or last.scored_at < ${fresh})
          order by last.scored_at nulls first, o.id
          limit ${MAX_ORGS_PER_RUN}`),
      ),
    ) as { id: string }[];
    let detected = 0;
    let failed = 0;
    let deferred = 0;
    const queue = [...orgs];
    const started = Date.now();
    const worker = async () => {
      for (let org = queue.shift(); org; org = queue.shift()) {
        // Past the budget, the rest wait for the next run (least recently scored first).
        if (Date.now() - started > TIME_BUDGET_MS) {
          deferred++;
          continue;
        }
        try {
          const outcome = await computeTrends(services, org.id, { now });
          detected += outcome.detected.length;
          if (outcome.detected.length > 0) {
            logger.info('trends detected', { org_id: org.id, topics: outcome.detected });
          }
        } catch (error) {
          failed++;
          logger.error('trends not computed', { org_id: org.id, error });
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    if (failed > 0 && failed === orgs.length - deferred) {
      throw new Error('trends: every organisation failed');
    }
    return { organizations: orgs.length, detected, failed, deferred };
  },
};
