import { SYSTEM_ACTOR } from '../../shared/actor.ts';
import type { AuditRecord } from '../../shared/audit.ts';
import { nextSnapshot } from '../../shared/content/compose.ts';
import {
  type DueDecision,
  type DueOutcome,
  type DueRow,
  PUBLISH_DUE_ACTOR,
  planDue,
  publishDue,
} from '../../shared/content/publish-due.ts';
import { AppError } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import { envelope } from '../../shared/messages.ts';
import type { AuditInput } from '../api/audit.ts';
import { type ContentChange, type ContentWriter, commitChanges } from '../api/content-write.ts';
import type { CronContext, CronJob } from './types.ts';

/** Audit events per `sendBatch` (the Queues limit is 100 messages). */
const AUDIT_BATCH = 100;

/**
 * Publishes scheduled content that is due and archives published content whose `unpublish_at`
 * came (`shared/content/publish-due.ts`), every minute, at the run's scheduled time.
 */
export const publishDueContent: CronJob = {
  name: 'publish-due',
  async run(context) {
    const now = new Date(context.scheduledTime);
    return publishDue(
      {
        db: context.services.db,
        logger: context.logger,
        commit: (orgId, rows) => commitDue(context, orgId, rows, now),
      },
      now,
    );
  },
};

/**
 * One organisation's due rows through the API's write path ({@link commitChanges}: ledger
 * reservation, `WRITES` message, Redis, audit), as workflow transitions by the system. Each
 * change decides on the head the write path learnt ({@link planDue}); a change that finds
 * nothing due is refused from its plan and counted as skipped. The audit action is read once
 * the plan has run, as the head decides between publishing and archiving.
 */
export async function commitDue(
  context: Pick<CronContext, 'env' | 'services' | 'logger' | 'origin'>,
  orgId: string,
  rows: DueRow[],
  now: Date,
): Promise<DueOutcome[]> {
  const decisions = new Map<string, DueDecision>();
  const changes = rows.map(({ id }): ContentChange => {
    const decided = () => {
      const decision = decisions.get(id);
      return decision?.ok ? decision : undefined;
    };
    return {
      id,
      action: 'transition',
      get audit() {
        return decided()?.action === 'archive' ? 'content.archive' : 'content.publish';
      },
      get auditData() {
        const decision = decided();
        return decision
          ? { action: decision.action, reason: decision.reason, scheduled: true }
          : {};
      },
      create: false,
      plan: async (current) => {
        const decision = planDue(current, now);
        decisions.set(id, decision);
        if (!decision.ok) {
          throw new AppError({
            code: 'CONFLICT',
            message: `${id} is not due (${decision.reason}).`,
          });
        }
        return nextSnapshot(current!, decision.fields, { actorId: SYSTEM_ACTOR, now });
      },
    };
  });
  const results = await commitChanges(systemWriter(context, orgId), changes);
  return results.map((result, i) => {
    const id = rows[i]!.id;
    const decision = decisions.get(id);
    if (result.ok) return decision?.ok && decision.action === 'archive' ? 'archived' : 'published';
    // Not due on its head, or gone (the write path's 404 before any plan): nothing to do.
    if ((decision && !decision.ok) || result.error.code === 'NOT_FOUND') return 'skipped';
    context.logger.warn('due content not committed; the next run retries', {
      orgId,
      content_id: id,
      code: result.error.code,
      detail: result.error.message,
    });
    return 'failed';
  });
}

/**
 * The writer the cron is: the platform itself ({@link SYSTEM_ACTOR} on the versions it makes),
 * audited as {@link PUBLISH_DUE_ACTOR}.
 */
function systemWriter(
  context: Pick<CronContext, 'env' | 'services' | 'logger' | 'origin'>,
  orgId: string,
): ContentWriter {
  const { services, logger, origin } = context;
  return {
    env: context.env,
    services,
    orgId,
    actorId: SYSTEM_ACTOR,
    origin,
    audit(inputs: AuditInput[]) {
      const createdAt = new Date().toISOString();
      const messages = inputs.map((input) => {
        const record: AuditRecord = {
          id: newId('auditLog'),
          org_id: orgId,
          actor_type: 'system',
          actor_id: PUBLISH_DUE_ACTOR,
          action: input.action,
          target_type: input.targetType ?? null,
          target_id: input.targetId ?? null,
          ip: null,
          user_agent: null,
          request_id: origin.requestId,
          trace_id: origin.trace.traceId,
          data: input.data ?? {},
          created_at: createdAt,
        };
        return {
          body: envelope('audit.record', record, { ...origin, orgId }),
          contentType: 'json' as const,
        };
      });
      for (let i = 0; i < messages.length; i += AUDIT_BATCH) {
        const batch = messages.slice(i, i + AUDIT_BATCH);
        services.waitUntil(
          services.queues.events.sendBatch(batch).catch((error: unknown) => {
            logger.error('audit events not recorded', { count: batch.length, error });
          }),
        );
      }
    },
  };
}
