import type { Context } from 'hono';
import type { AuditAction, AuditRecord } from '../../shared/audit.ts';
import { principalId } from '../../shared/auth/permissions.ts';
import type { AuditActorType } from '../../shared/db/schema/audit.ts';
import { newId } from '../../shared/ids.ts';
import { envelope } from '../../shared/messages.ts';
import type { AppBindings } from './app.ts';
import { clientIp, userAgent } from './request-context.ts';

export type AuditInput = {
  action: AuditAction;
  /** Defaults to the caller's organisation; null for platform-level events. */
  orgId?: string | null;
  /** Defaults to the authenticated caller; unauthenticated events name the user they concern. */
  actor?: { type: AuditActorType; id: string | null };
  targetType?: string;
  targetId?: string;
  data?: Record<string, unknown>;
};

/** The audit row for `input`, stamped with the request's caller, time, IP and ids. */
export function auditRecord(c: Context<AppBindings>, input: AuditInput): AuditRecord {
  const principal = c.var.principal;
  const actor =
    input.actor ??
    (principal
      ? { type: principal.kind === 'user' ? 'user' : 'api_key', id: principalId(principal) }
      : { type: 'system' as const, id: null });
  const orgId = input.orgId === undefined ? (principal?.orgId ?? null) : input.orgId;
  const record: AuditRecord = {
    id: newId('auditLog'),
    org_id: orgId,
    actor_type: actor.type as AuditActorType,
    actor_id: actor.id,
    action: input.action,
    target_type: input.targetType ?? null,
    target_id: input.targetId ?? null,
    ip: clientIp(c),
    user_agent: userAgent(c),
    request_id: c.var.requestId,
    trace_id: c.var.trace.traceId,
    data: input.data ?? {},
    created_at: new Date().toISOString(),
  };
  return record;
}

/**
 * Records an audit event: the row is built here (id, time, IP, user agent, request and trace ids)
 * and sent to `EVENTS`, whose consumer writes it to `audit_log`. The send runs after the
 * response (`waitUntil`); a failure is logged as an error, never turned into the caller's.
 */
export function audit(c: Context<AppBindings>, input: AuditInput): Promise<void> {
  const record = auditRecord(c, input);
  const orgId = record.org_id;
  const sent = c.var.services
    .enqueue('events', 'audit.record', record, orgId ? { orgId } : {})
    .catch((error: unknown) => {
      c.var.logger.error('audit event not recorded', {
        action: input.action,
        audit_id: record.id,
        error: error instanceof Error ? error.message : String(error),
      });
    });
  c.var.services.waitUntil(sent);
  return sent;
}

/** Audit events per `sendBatch` (the Queues limit is 100 messages). */
const AUDIT_BATCH = 100;

/**
 * Records many audit events (a bulk request's) in batches of {@link AUDIT_BATCH} messages, after
 * the response; failures are logged, as for {@link audit}.
 */
export function auditMany(c: Context<AppBindings>, inputs: AuditInput[]): void {
  const origin = { requestId: c.var.requestId, trace: c.var.trace };
  const messages = inputs.map((input) => {
    const record = auditRecord(c, input);
    const meta = record.org_id ? { ...origin, orgId: record.org_id } : origin;
    return { body: envelope('audit.record', record, meta), contentType: 'json' as const };
  });
  for (let i = 0; i < messages.length; i += AUDIT_BATCH) {
    const batch = messages.slice(i, i + AUDIT_BATCH);
    c.var.services.waitUntil(
      c.var.services.queues.events.sendBatch(batch).catch((error: unknown) => {
        c.var.logger.error('audit events not recorded', {
          count: batch.length,
          error: error instanceof Error ? error.message : String(error),
        });
      }),
    );
  }
}
