import { sql } from 'drizzle-orm';
import {
  check,
  foreignKey,
  index,
  inet,
  integer,
  pgEnum,
  pgTable,
  text,
  unique,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { newId } from '../../ids.ts';
import { actor, actorCheck, createdAt, timestamptz, updatedAt } from './columns.ts';
import { organizations, users } from './tenancy.ts';

/**
 * Keys for machine clients of one organisation. Only the SHA-256 of the secret is stored; the
 * visible `prefix` lets people tell keys apart in lists and logs. Rolling a key creates its
 * successor and points `replaced_by` at it; the old key keeps working until `grace_until`.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id')
      .primaryKey()
      .$defaultFn(() => newId('apiKey')),
    orgId: text('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** The first characters of the secret, shown in the dashboard (`sk_live_3fa9`). */
    prefix: text('prefix').notNull(),
    /** SHA-256 of the whole secret, lowercase hex. */
    hash: text('hash').notNull(),
    scopes: text('scopes').array().notNull().default(sql`'{}'::text[]`),
    /** Per-key rate limit (requests per window); null = the plan's default. */
    rateLimit: integer('rate_limit'),
    rateLimitWindowSeconds: integer('rate_limit_window_seconds'),
    expiresAt: timestamptz('expires_at'),
    lastUsedAt: timestamptz('last_used_at'),
    revokedAt: timestamptz('revoked_at'),
    replacedBy: text('replaced_by'),
    /** When a rolled key stops working; only set together with `replaced_by`. */
    graceUntil: timestamptz('grace_until'),
    /** Who created it: a user, or a key with `keys:manage` (an actor reference). */
    createdBy: actor('created_by'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // Every request with a key looks it up by hash before any org is known.
    uniqueIndex('api_keys_hash_key').on(t.hash),
    index('api_keys_org_created_idx').on(t.orgId, t.createdAt, t.id),
    // Target of the same-organisation foreign key below.
    unique('api_keys_org_id_key').on(t.orgId, t.id),
    // A key can only be replaced by a key of the same organisation.
    foreignKey({
      name: 'api_keys_replaced_by_fk',
      columns: [t.orgId, t.replacedBy],
      foreignColumns: [t.orgId, t.id],
    }),
    check('api_keys_hash_format', sql`${t.hash} ~ '^[0-9a-f]{64}$'`),
    check(
      'api_keys_rate_limit_pair',
      sql`(${t.rateLimit} is null and ${t.rateLimitWindowSeconds} is null) or (${t.rateLimit} > 0 and ${t.rateLimitWindowSeconds} > 0)`,
    ),
    check(
      'api_keys_grace_needs_successor',
      sql`${t.graceUntil} is null or ${t.replacedBy} is not null`,
    ),
    check('api_keys_not_self_replaced', sql`${t.replacedBy} is null or ${t.replacedBy} <> ${t.id}`),
    actorCheck('api_keys_created_by_actor', t.createdBy),
  ],
);

export const sessionEventKind = pgEnum('session_event_kind', [
  'created',
  'refreshed',
  'revoked',
  'reuse_detected',
  'expired',
]);
export type SessionEventKind = (typeof sessionEventKind.enumValues)[number];

/**
 * The sessions audit trail. Live refresh-token families sit in the `SESSIONS` Durable Object;
 * this table is the durable record of what happened to them (and what a user's "devices" page
 * and a security review read). Sessions belong to a user, not an organisation.
 */
export const sessionEvents = pgTable(
  'session_events',
  {
    id: text('id')
      .primaryKey()
      .$defaultFn(() => newId('sessionEvent')),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The session (`ses_…`); one per sign-in. */
    sessionId: text('session_id').notNull(),
    /** The refresh-token family: reuse of a rotated token revokes the whole family. */
    familyId: text('family_id').notNull(),
    kind: sessionEventKind('kind').notNull(),
    ip: inet('ip'),
    userAgent: text('user_agent'),
    /** A human label for the device ("Firefox on macOS"), derived from the user agent. */
    device: text('device'),
    createdAt: createdAt(),
  },
  (t) => [
    index('session_events_user_created_idx').on(t.userId, t.createdAt, t.id),
    index('session_events_family_idx').on(t.familyId, t.createdAt),
  ],
);
