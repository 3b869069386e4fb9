import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { newId } from '../../ids.ts';
import { createdAt, deletedAt, timestamptz, updatedAt } from './columns.ts';

/** Roles in an organisation, most to least powerful. */
export const membershipRole = pgEnum('membership_role', [
  'owner',
  'admin',
  'editor',
  'author',
  'viewer',
]);
export type MembershipRole = (typeof membershipRole.enumValues)[number];

/** A tenant. Everything a customer owns hangs off an organisation and is deleted with it. */
export const organizations = pgTable(
  'organizations',
  {
    id: text('id')
      .primaryKey()
      .$defaultFn(() => newId('organization')),
    /** URL-safe handle, unique across the platform (`sift-demo`). */
    slug: text('slug').notNull(),
    name: text('name').notNull(),
    /** The locale content falls back to when a requested one is missing. */
    defaultLocale: text('default_locale').notNull().default('en'),
    /** Locales the organisation publishes in; the first is not special, `default_locale` is. */
    locales: text('locales').array().notNull().default(sql`'{en,ar}'::text[]`),
    /** Per-tenant settings (feature flags, ranking weights...): validated by the API, not here. */
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    /** A deleted organisation keeps its slug reserved until it is purged. */
    deletedAt: deletedAt(),
  },
  (t) => [
    uniqueIndex('organizations_slug_key').on(t.slug),
    check('organizations_slug_format', sql`${t.slug} ~ '^[a-z0-9]+(-[a-z0-9]+)*$'`),
    check('organizations_settings_object', sql`jsonb_typeof(${t.settings}) = 'object'`),
  ],
);

/**
 * People who can sign in. Users are platform-wide (one login, many organisations through
 * memberships), so this is one of the few tables without `org_id`.
 */
export const users = pgTable(
  'users',
  {
    id: text('id')
      .primaryKey()
      .$defaultFn(() => newId('user')),
    /** Kept as typed; uniqueness and look-ups go through `lower(email)`. */
    email: text('email').notNull(),
    name: text('name'),
    /** Null for users who have not set a password yet (invited, or single sign-on later). */
    passwordHash: text('password_hash'),
    isSuperAdmin: boolean('is_super_admin').notNull().default(false),
    /** Preferred interface locale (BCP 47). */
    locale: text('locale'),
    emailVerifiedAt: timestamptz('email_verified_at'),
    disabledAt: timestamptz('disabled_at'),
    lastLoginAt: timestamptz('last_login_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // Case-insensitive uniqueness without the citext extension, which the local cloud's PGlite
    // does not load. Look-ups must use `lower(email) = lower($1)` to hit this index.
    uniqueIndex('users_email_key').on(sql`lower(${t.email})`),
    check('users_email_format', sql`${t.email} ~ '^[^@[:space:]]+@[^@[:space:]]+$'`),
  ],
);

/** Who belongs to which organisation, with which role. */
export const memberships = pgTable(
  'memberships',
  {
    orgId: text('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: membershipRole('role').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.userId] }),
    // "Which organisations is this user in?" runs at sign-in, before any org is known, so this
    // index leads with user_id rather than org_id.
    index('memberships_user_idx').on(t.userId),
    index('memberships_org_role_idx').on(t.orgId, t.role),
  ],
);

/**
 * An invitation to join an organisation. Only a hash of the token is stored; the token itself
 * travels once, in the invitation link.
 */
export const invitations = pgTable(
  'invitations',
  {
    id: text('id')
      .primaryKey()
      .$defaultFn(() => newId('invitation')),
    orgId: text('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    role: membershipRole('role').notNull(),
    /** SHA-256 of the token, lowercase hex. */
    tokenHash: text('token_hash').notNull(),
    invitedBy: text('invited_by').references(() => users.id, { onDelete: 'set null' }),
    expiresAt: timestamptz('expires_at').notNull(),
    acceptedAt: timestamptz('accepted_at'),
    acceptedBy: text('accepted_by').references(() => users.id, { onDelete: 'set null' }),
    revokedAt: timestamptz('revoked_at'),
    createdAt: createdAt(),
  },
  (t) => [
    // Accepting an invitation finds it by token alone (the org is not known yet).
    uniqueIndex('invitations_token_hash_key').on(t.tokenHash),
    // At most one open invitation per address per organisation; re-inviting revokes the old one.
    uniqueIndex('invitations_org_email_open_key')
      .on(t.orgId, sql`lower(${t.email})`)
      .where(sql`${t.acceptedAt} is null and ${t.revokedAt} is null`),
    index('invitations_org_created_idx').on(t.orgId, t.createdAt),
    check('invitations_token_hash_format', sql`${t.tokenHash} ~ '^[0-9a-f]{64}$'`),
    check('invitations_closed_once', sql`${t.acceptedAt} is null or ${t.revokedAt} is null`),
  ],
);
