import { and, inArray, lt, ne } from 'drizzle-orm';
import { webhookDeliveries } from '../../shared/db/schema/index.ts';
import { sweepOverdue } from '../../shared/webhooks/delivery.ts';
import type { CronJob } from './types.ts';

/** Finished deliveries (and their attempts) are kept this long. */
export const DELIVERY_RETENTION_DAYS = 30;
/** Most finished deliveries one run deletes (the next run takes the rest). */
const PRUNE_LIMIT = 5_000;

/**
 * Outbound webhooks' safety net: schedules again every attempt QStash has not made ten minutes
 * after it was due (`sweepOverdue`), so no delivery stays `pending` for ever, and deletes
 * finished deliveries older than {@link DELIVERY_RETENTION_DAYS} days.
 */
export const sweepWebhooks: CronJob = {
  name: 'sweep-webhooks',
  async run({ services, logger }) {
    const rescheduled = await sweepOverdue(services);
    const old = services.db
      .select({ id: webhookDeliveries.id })
      .from(webhookDeliveries)
      .where(
        and(
          ne(webhookDeliveries.status, 'pending'),
          lt(
            webhookDeliveries.createdAt,
            new Date(Date.now() - DELIVERY_RETENTION_DAYS * 86_400_000),
          ),
        ),
      )
      .limit(PRUNE_LIMIT);
    const pruned = await services.db
      .delete(webhookDeliveries)
      .where(inArray(webhookDeliveries.id, old))
      .returning({ id: webhookDeliveries.id });
    if (rescheduled > 0) logger.warn('overdue webhook attempts scheduled again', { rescheduled });
    return { rescheduled, pruned: pruned.length };
  },
};
