import { sql } from 'drizzle-orm';
import { check, index, pgEnum, pgTable, text } from 'drizzle-orm/pg-core';
import { newId } from '../../ids.ts';
import { actor, actorCheck, createdAt, updatedAt } from './columns.ts';
import { organizations } from './tenancy.ts';

/**
 * `multi_way`: every term stands for every other (`car, automobile, vehicle`).
 * `one_way`: a query for `root` also matches `terms`, not the reverse (`ai` → `artificial
 * intelligence`).
 */
export const synonymKind = pgEnum('synonym_kind', ['one_way', 'multi_way']);
export type SynonymKind = (typeof synonymKind.enumValues)[number];

/** Per-organisation, per-locale synonym sets used by query expansion. */
export const synonyms = pgTable(
  'synonyms',
  {
    id: text('id')
      .primaryKey()
      .$defaultFn(() => newId('synonym')),
    orgId: text('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    locale: text('locale').notNull(),
    kind: synonymKind('kind').notNull(),
    /** The term that expands, for `one_way` sets; null for `multi_way`. */
    root: text('root'),
    terms: text('terms').array().notNull(),
    /** Who created it (an actor reference). */
    createdBy: actor('created_by'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // The API loads a locale's whole set into a config snapshot (KV), ordered for stable ETags.
    index('synonyms_org_locale_idx').on(t.orgId, t.locale, t.id),
    check('synonyms_root_matches_kind', sql`(${t.kind} = 'one_way') = (${t.root} is not null)`),
    actorCheck('synonyms_created_by_actor', t.createdBy),
    check(
      'synonyms_terms_count',
      sql`cardinality(${t.terms}) >= case ${t.kind} when 'multi_way' then 2 else 1 end`,
    ),
  ],
);
