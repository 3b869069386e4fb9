import { AuditRecord } from '../../shared/audit.ts';
import { recordSessionEvent, SessionEvent } from '../../shared/auth/session-events.ts';
import { auditLog } from '../../shared/db/schema/index.ts';
import { EXPOSURE_EVENT, Exposure, persistExposures } from '../../shared/experiments/exposure.ts';
import {
  ENGAGEMENT_EVENT,
  EngagementEvent,
  persistEngagementEvents,
} from '../../shared/search/analytics.ts';
import { batchHandler, type Consumer, handler } from './policy.ts';

/**
 * The `EVENTS` consumer. `audit.record` writes one audit-log row; the id comes from the edge,
 * so a redelivered message inserts nothing the second time. `session.event` writes one
 * `session_events` row (sent by a user's `SESSIONS` object), idempotent by id in the same way.
 * `engagement.event` (searches, result clicks) writes a delivered batch's events to `events` in
 * one insert, idempotent by (id, occurred_at); a failed insert retries the whole batch.
 * `experiment.exposure` (a search or recommendation list served under an experiment's variant)
 * writes `experiment_exposures` the same way, idempotent by (experiment, subject).
 */
export function eventsConsumer(deadLetterQueue: Queue): Consumer {
  return {
    deadLetterQueue,
    handlers: {
      'audit.record': handler({
        payload: AuditRecord,
        async handle(record, { services }) {
          await services.db
            .insert(auditLog)
            .values({
              id: record.id,
              orgId: record.org_id,
              actorType: record.actor_type,
              actorId: record.actor_id,
              action: record.action,
              targetType: record.target_type,
              targetId: record.target_id,
              ip: record.ip,
              userAgent: record.user_agent,
              requestId: record.request_id,
              traceId: record.trace_id,
              data: record.data,
              createdAt: new Date(record.created_at),
            })
            .onConflictDoNothing({ target: auditLog.id });
        },
      }),
      'session.event': handler({
        payload: SessionEvent,
        async handle(event, { services }) {
          await recordSessionEvent(services.db, event);
        },
      }),
      [ENGAGEMENT_EVENT]: batchHandler({
        payload: EngagementEvent,
        async batch(items, { services, logger }) {
          const inserted = await persistEngagementEvents(
            services.db,
            items.map((item) => item.payload),
          );
          logger.info('engagement events persisted', { received: items.length, inserted });
          return items.map(() => undefined);
        },
      }),
      [EXPOSURE_EVENT]: batchHandler({
        payload: Exposure,
        async batch(items, { services, logger }) {
          const inserted = await persistExposures(
            services.db,
            items.map((item) => item.payload),
          );
          logger.info('experiment exposures persisted', { received: items.length, inserted });
          return items.map(() => undefined);
        },
      }),
    },
  };
}
