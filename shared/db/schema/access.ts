import { sql } from 'drizzle-orm';
import { check, index, pgEnum, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { newId } from '../../ids.ts';
import { createdAt, timestamptz } from './columns.ts';
import { users } from './tenancy.ts';

export const accessList = pgEnum('access_list', ['allow', 'deny']);
export type AccessList = (typeof accessList.enumValues)[number];

export const accessSubjectType = pgEnum('access_subject_type', ['ip', 'api_key']);
export type AccessSubjectType = (typeof accessSubjectType.enumValues)[number];

/**
 * The platform's allow and deny lists, kept by super admins: an IP address or CIDR range, or
 * an API key (by id). A denied subject gets 403 on every `/v1` route; an allowed one skips the
 * rate limiter. Deny wins when both match. Platform-wide, so no `org_id`. `value` is stored in
 * canonical form (`203.0.113.0/24`, RFC 5952 IPv6, a bare address for a single host), which
 * makes the unique index catch the same rule written two ways.
 */
export const accessRules = pgTable(
  'access_rules',
  {
    id: text('id')
      .primaryKey()
      .$defaultFn(() => newId('accessRule')),
    list: accessList('list').notNull(),
    subjectType: accessSubjectType('subject_type').notNull(),
    value: text('value').notNull(),
    /** Why the rule exists (an incident, a partner's office range...). */
    reason: text('reason').notNull(),
    /** After this the rule no longer applies; null = until deleted. */
    expiresAt: timestamptz('expires_at'),
    createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('access_rules_list_subject_value_key').on(t.list, t.subjectType, t.value),
    // The admin list pages by (created_at, id) descending.
    index('access_rules_created_idx').on(t.createdAt, t.id),
    check(
      'access_rules_value_format',
      sql`(${t.subjectType} = 'api_key' and ${t.value} ~ '^key_[0-7][0-9a-hjkmnp-tv-z]{25}$') or (${t.subjectType} = 'ip' and ${t.value} ~ '^[0-9a-f.:]+(/[0-9]{1,3})?$')`,
    ),
    check('access_rules_reason_length', sql`char_length(${t.reason}) between 1 and 500`),
  ],
);
