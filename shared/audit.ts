import { z } from 'zod';
import { auditActorType } from './db/schema/audit.ts';
import { isId } from './ids.ts';

/** The `audit.record` message on `EVENTS`: one audit-log row, built at the edge. */
export const AuditRecord = z.object({
  id: z.string().refine((id) => isId('auditLog', id), 'must be an audit id (aud_…)'),
  org_id: z.string().nullable(),
  actor_type: z.enum(auditActorType.enumValues),
  actor_id: z.string().nullable(),
  action: z.string().regex(/^[a-z_]+(\.[a-z_]+)+$/, 'must be resource.verb'),
  target_type: z.string().nullable().default(null),
  target_id: z.string().nullable().default(null),
  ip: z.string().nullable().default(null),
  user_agent: z.string().nullable().default(null),
  request_id: z.string().nullable().default(null),
  trace_id: z.string().nullable().default(null),
  data: z.record(z.string(), z.unknown()).default({}),
  created_at: z.iso.datetime(),
});
export type AuditRecord = z.infer<typeof AuditRecord>;
export type AuditRecordInput = z.input<typeof AuditRecord>;

/**
 * The audited actions. Names are `resource.verb`; `data` never holds a secret (a token, a key,
 * a password), only ids, reasons and before/after values.
 */
export const AUDIT_ACTIONS = [
  'auth.signup',
  'auth.login',
  'auth.login_failed',
  'auth.logout',
  'session.revoke',
  'session.revoke_all',
  'session.token_reuse',
  'api_key.create',
  'api_key.roll',
  'api_key.revoke',
  'membership.role_change',
  'membership.remove',
  'invitation.create',
  'invitation.accept',
  'invitation.revoke',
  'permission.denied',
  'access_rule.create',
  'access_rule.delete',
  'user.disable',
  'user.enable',
  'content.create',
  'content.update',
  'content.delete',
  'content.undelete',
  'content.restore',
  'content.restore_version',
  'content.submit',
  'content.request_changes',
  'content.approve',
  'content.publish',
  'content.schedule',
  'content.unpublish',
  'content.archive',
  'content.bulk',
  'search.synonyms.create',
  'search.synonyms.update',
  'search.synonyms.delete',
  'search.settings.update',
  'search.reindex',
  'webhook_source.create',
  'webhook_source.update',
  'webhook_source.delete',
  'webhook_source.rotate_secret',
  'webhook_source.delivery_refused',
  'webhook_source.poll',
  'webhook_endpoint.create',
  'webhook_endpoint.update',
  'webhook_endpoint.delete',
  'webhook_endpoint.disable',
  'webhook_endpoint.enable',
  'webhook_endpoint.rotate_secret',
  'webhook_endpoint.test',
  'webhook_endpoint.replay',
  'webhook_endpoint.recover',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
