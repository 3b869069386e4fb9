import type { Context } from 'hono';
import type { AuditAction, AuditRecord } from '../../shared/audit.ts';
import { principalId } from '../../shared/auth/permissions.ts';
import type { AuditActorType } from '../../shared/db/schema/audit.ts';
import { newId } from '../../shared/ids.ts';
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

/**
 * Records an audit event: the row is built here (id, time, IP, user agent, request and trace ids)
 * and sent to `EVENTS`, whose consumer writes it to `audit_log`. The send runs after the
 * response (`waitUntil`); a failure is logged as an error, never turned into the caller's.
 */
export function audit(c: Context<AppBindings>, input: AuditInput): Promise<void> {
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
