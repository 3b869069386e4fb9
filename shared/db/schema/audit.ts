import { sql } from 'drizzle-orm';
import { check, index, inet, jsonb, pgEnum, pgTable, text } from 'drizzle-orm/pg-core';
import { newId } from '../../ids.ts';
import { createdAt } from './columns.ts';
import { organizations } from './tenancy.ts';

export const auditActorType = pgEnum('audit_actor_type', [
  'user',
  'api_key',
  'system',
  'webhook_source',
]);
export type AuditActorType = (typeof auditActorType.enumValues)[number];

/**
 * Who did what to which resource, when and from where. Append-only: a trigger (migration
 * 0002) rejects UPDATE; DELETE stays possible for retention pruning and organisation purges.
 * `actor_id` and `target_id` are deliberately not foreign keys: the trail must outlive the
 * users, keys and resources it names.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: text('id')
      .primaryKey()
      .$defaultFn(() => newId('auditLog')),
    /** Null only for platform-level actions by super admins that concern no organisation. */
    orgId: text('org_id').references(() => organizations.id, { onDelete: 'cascade' }),
    actorType: auditActorType('actor_type').notNull(),
    /** `usr_…`, `key_…` or `whs_…`; null for `system`. */
    actorId: text('actor_id'),
    /** `resource.verb`: `content.publish`, `api_key.roll`, `membership.update`... */
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    ip: inet('ip'),
    userAgent: text('user_agent'),
    requestId: text('request_id'),
    traceId: text('trace_id'),
    /** What changed (`{ before, after }`, reasons...). Never secrets. */
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [
    // Each index serves the list paged by (created_at, id) descending, unfiltered or filtered
    // by action, actor or target; a time range is a range on created_at.
    index('audit_log_org_created_idx').on(t.orgId, t.createdAt, t.id),
    index('audit_log_org_action_created_idx').on(t.orgId, t.action, t.createdAt, t.id),
    index('audit_log_org_actor_created_idx').on(t.orgId, t.actorType, t.actorId, t.createdAt, t.id),
    index('audit_log_org_target_created_idx')
      .on(t.orgId, t.targetType, t.targetId, t.createdAt, t.id)
      .where(sql`${t.targetId} is not null`),
    check(
      'audit_log_actor_id_present',
      sql`(${t.actorType} = 'system') or ${t.actorId} is not null`,
    ),
    check('audit_log_data_object', sql`jsonb_typeof(${t.data}) = 'object'`),
  ],
);
