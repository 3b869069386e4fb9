import { sql } from 'drizzle-orm';
import {
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  unique,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { newId } from '../../ids.ts';
import { actor, actorCheck, createdAt, timestamptz, updatedAt } from './columns.ts';
import { organizations } from './tenancy.ts';

export const experimentSurface = pgEnum('experiment_surface', ['search', 'recommendations']);
export const experimentStatus = pgEnum('experiment_status', [
  'draft',
  'running',
  'paused',
  'stopped',
]);

/** One arm: its share of the experiment's traffic and the settings it overrides (none: control). */
export type ExperimentVariant = {
  key: string;
  /** Percent of the experiment's traffic; the variants' weights sum to 100. */
  weight: number;
  /** A partial `settings.search` or recommendation blend; `{}` for the control. */
  settings: Record<string, unknown>;
};

/** A limit a variant must not cross, whatever its primary metric says. */
export type Guardrail = {
  metric: 'error_rate' | 'latency_p95';
  /** For `latency_p95`: how much slower than the control's the variant's p95 may be, in %. */
  max_increase_percent?: number | undefined;
};

/**
 * An A/B experiment on the search ranking settings or the recommendation blend
 * (`shared/experiments/`). The first variant is the control (the stored settings); the others
 * override part of them. A targeting key is in the experiment when its bucket under `salt` is
 * within `traffic_percent`, and gets the variant its bucket under `salt + ".variant"` falls in
 * (`shared/flags/bucket.ts`). At most one experiment per surface is running or paused. `sequential`
 * keeps each variant's always-valid p-value at the last look (a running minimum).
 */
export const experiments = pgTable(
  'experiments',
  {
    id: text('id')
      .primaryKey()
      .$defaultFn(() => newId('experiment')),
    orgId: text('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    description: text('description'),
    surface: experimentSurface('surface').notNull(),
    status: experimentStatus('status').notNull().default('draft'),
    variants: jsonb('variants').$type<ExperimentVariant[]>().notNull(),
    trafficPercent: doublePrecision('traffic_percent').notNull().default(100),
    primaryMetric: text('primary_metric').notNull(),
    guardrails: jsonb('guardrails').$type<Guardrail[]>().notNull().default([]),
    /** Planned exposures per variant: past it an undecided variant is called no difference. */
    horizon: integer('horizon'),
    salt: text('salt').notNull(),
    version: integer('version').notNull().default(1),
    sequential: jsonb('sequential').$type<Record<string, number>>().notNull().default({}),
    startedAt: timestamptz('started_at'),
    stoppedAt: timestamptz('stopped_at'),
    promotedVariant: text('promoted_variant'),
    promotedAt: timestamptz('promoted_at'),
    createdBy: actor('created_by'),
    updatedBy: actor('updated_by'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique('experiments_org_key_key').on(t.orgId, t.key),
    index('experiments_org_created_idx').on(t.orgId, t.createdAt, t.id),
    uniqueIndex('experiments_one_active_per_surface')
      .on(t.orgId, t.surface)
      .where(sql`${t.status} in ('running', 'paused')`),
    actorCheck('experiments_created_by_actor', t.createdBy),
    actorCheck('experiments_updated_by_actor', t.updatedBy),
    check('experiments_version_positive', sql`${t.version} >= 1`),
    check(
      'experiments_traffic_percent',
      sql`${t.trafficPercent} > 0 and ${t.trafficPercent} <= 100`,
    ),
    check('experiments_variants_array', sql`jsonb_typeof(${t.variants}) = 'array'`),
  ],
);

/**
 * A search or recommendation list served under an experiment's variant: the unit its clicks and
 * conversions attribute to, by `subject_id` (the `query_id` or `recomm_id` of the response).
 * Written by the EVENTS consumer, once per subject however often it is delivered or served
 * (a cached list shown again is the same exposure).
 */
export const experimentExposures = pgTable(
  'experiment_exposures',
  {
    experimentId: text('experiment_id')
      .notNull()
      .references(() => experiments.id, { onDelete: 'cascade' }),
    subjectId: text('subject_id').notNull(),
    orgId: text('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    variant: text('variant').notNull(),
    targetingKey: text('targeting_key').notNull(),
    /** `ok`, `degraded` (answered without some source) or `error` (no answer). */
    outcome: text('outcome').notNull(),
    latencyMs: integer('latency_ms').notNull(),
    /** Items found (searches); null for recommendation lists and failures. */
    resultCount: integer('result_count'),
    occurredAt: timestamptz('occurred_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.experimentId, t.subjectId] }),
    index('experiment_exposures_variant_key_idx').on(
      t.orgId,
      t.experimentId,
      t.variant,
      t.targetingKey,
    ),
    check('experiment_exposures_outcome', sql`${t.outcome} in ('ok', 'degraded', 'error')`),
  ],
);
