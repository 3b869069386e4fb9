import { sql } from 'drizzle-orm';
import type { CronJob } from './types.ts';

/** How many months ahead the events table's partitions exist. */
export const PARTITION_MONTHS_AHEAD = 3;

/**
 * Creates the coming months' partitions of `events` (idempotent; see the migration's function),
 * then analyzes the table: autovacuum analyzes each partition but never the partitioned parent,
 * whose statistics the planner uses to choose between the events indexes (recommendations'
 * per-reader and per-item lookups).
 */
export const ensureEventPartitions: CronJob = {
  name: 'ensure-event-partitions',
  async run({ services, logger }) {
    const result = await services.db.execute(
      sql`select ensure_event_partitions(${PARTITION_MONTHS_AHEAD}) as created`,
    );
    const created = Number((result.rows[0] as { created?: unknown } | undefined)?.created ?? 0);
    await services.db.execute(sql`analyze events`);
    logger.info('event partitions ensured', { months_ahead: PARTITION_MONTHS_AHEAD, created });
    return { created };
  },
};
