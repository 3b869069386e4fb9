import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  unique,
} from 'drizzle-orm/pg-core';
import type { AllowList, Rule, Variant } from '../../flags/rules.ts';
import { newId } from '../../ids.ts';
import { actor, actorCheck, createdAt, timestamptz, updatedAt } from './columns.ts';
import { organizations } from './tenancy.ts';

export const flagType = pgEnum('flag_type', ['boolean', 'string', 'number', 'json']);

/**
 * A feature flag: its variants, default, ordered targeting rules, allow- and deny-lists and kill
 * switch (`shared/flags/rules.ts` spells out the JSON shapes). `version` counts its own changes
 * (the ETag of `If-Match`); `salt` seeds its bucketing and never changes, so a key keeps its
 * bucket. An archived flag keeps its key (a new flag cannot reuse it) and is no longer evaluated.
 */
export const flags = pgTable(
  'flags',
  {
    id: text('id')
      .primaryKey()
      .$defaultFn(() => newId('flag')),
    orgId: text('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    type: flagType('type').notNull(),
    description: text('description'),
    variants: jsonb('variants').$type<Variant[]>().notNull(),
    defaultVariant: text('default_variant').notNull(),
    rules: jsonb('rules').$type<Rule[]>().notNull().default([]),
    allow: jsonb('allow').$type<AllowList[]>().notNull().default([]),
    deny: text('deny').array().notNull().default(sql`'{}'::text[]`),
    killSwitch: boolean('kill_switch').notNull().default(false),
    salt: text('salt').notNull(),
    version: integer('version').notNull().default(1),
    archivedAt: timestamptz('archived_at'),
    createdBy: actor('created_by'),
    updatedBy: actor('updated_by'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique('flags_org_key_key').on(t.orgId, t.key),
    index('flags_org_created_idx').on(t.orgId, t.createdAt, t.id),
    actorCheck('flags_created_by_actor', t.createdBy),
    actorCheck('flags_updated_by_actor', t.updatedBy),
    check('flags_version_positive', sql`${t.version} >= 1`),
    check('flags_variants_array', sql`jsonb_typeof(${t.variants}) = 'array'`),
    check('flags_rules_array', sql`jsonb_typeof(${t.rules}) = 'array'`),
    check('flags_allow_array', sql`jsonb_typeof(${t.allow}) = 'array'`),
  ],
);

/**
 * The version of an organisation's flag set: incremented in the transaction of every change to
 * any of its flags, so a cached snapshot (isolate memory, KV) knows whether it is current.
 */
export const flagSets = pgTable('flag_sets', {
  orgId: text('org_id')
    .primaryKey()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  version: bigint('version', { mode: 'number' }).notNull().default(0),
  updatedAt: updatedAt(),
});
