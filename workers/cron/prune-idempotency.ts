import { lt, sql } from 'drizzle-orm';
import { idempotencyRecords } from '../../shared/db/schema/index.ts';
import type { CronJob } from './types.ts';

/** Deletes idempotency records past their expiry (a replayable answer lives 24 h). */
export const pruneIdempotency: CronJob = {
  name: 'prune-idempotency',
  async run({ services, logger }) {
    const deleted = await services.db
      .delete(idempotencyRecords)
      .where(lt(idempotencyRecords.expiresAt, sql`now()`))
      .returning({ key: idempotencyRecords.key });
    logger.info('expired idempotency records pruned', { deleted: deleted.length });
    return { deleted: deleted.length };
  },
};
