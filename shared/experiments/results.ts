import { type SQL, sql } from 'drizzle-orm';
import type { ExperimentVariant, Guardrail } from '../db/schema/experiments.ts';
import { type Database, rowsOf } from '../search/database.ts';
import { BETTER, type Metric, type Surface } from './assign.ts';
import { effectiveCounts, type UnitSums } from './clustered.ts';
import {
  analyzeExperiment,
  DEFAULT_ALPHA,
  type ExperimentDecision,
  type Interval,
  sequentialTest,
  type VariantDecision,
} from './stats.ts';

/** Exposures each arm needs before their latencies are compared (a p95 of fewer is noise). */
export const MIN_LATENCY_EXPOSURES = 100;

/** What the results need of an experiment. */
export type ExperimentForResults = {
  id: string;
  orgId: string;
  surface: Surface;
  primaryMetric: Metric;
  variants: ExperimentVariant[];
  guardrails: Guardrail[];
  horizon: number | null;
  startedAt: Date | null;
  /** Each variant's always-valid p-values at the last look (`sequential`). */
  sequential: Record<string, number>;
};

/** Per variant, as one statement counts them. */
type ArmRow = UnitSums & {
  variant: string;
  /** Exposures that failed or answered degraded, and their unit sums. */
  failures: number;
  failuresSquared: number;
  failureProduct: number;
  latencyP50: number | null;
  latencyP95: number | null;
};

/**
 * The events that convert an exposure, for each surface and metric: which type, and where it
 * names the exposure's subject (`query_id` column, or `recomm_id` in `data`).
 */
function conversionsOf(experiment: ExperimentForResults): SQL | null {
  if (experiment.primaryMetric === 'zero_result_rate') return null;
  const type =
    experiment.primaryMetric === 'conversion_rate'
      ? 'content.converted'
      : experiment.surface === 'search'
        ? 'search.result_clicked'
        : 'recommendation.clicked';
  const subject = experiment.surface === 'search' ? sql`query_id` : sql`data->>'recomm_id'`;
  const since = (experiment.startedAt ?? new Date(0)).toISOString();
  return sql`select distinct ${subject} as subject_id from events
    where org_id = ${experiment.orgId} and type = ${type} and occurred_at >= ${since}
      and ${subject} is not null`;
}

/**
 * Per variant: units (targeting keys), exposures, conversions and failures with the sums over
 * units the design effect needs, and latency percentiles. One statement: the conversions are a
 * hash join against the converting events since the start.
 */
async function countArms(db: Database, experiment: ExperimentForResults): Promise<ArmRow[]> {
  const conversions = conversionsOf(experiment);
  const converted =
    conversions === null ? sql`coalesce(e.result_count = 0, false)` : sql`c.subject_id is not null`;
  const result = await db.execute(sql`
    with converting as (${conversions ?? sql`select null::text as subject_id where false`}),
    exposed as (
      select e.variant, e.targeting_key, e.latency_ms,
        (${converted})::int as converted, (e.outcome <> 'ok')::int as failed
      from experiment_exposures e
        left join converting c on c.subject_id = e.subject_id
      where e.org_id = ${experiment.orgId} and e.experiment_id = ${experiment.id}
    ),
    per_key as (
      select variant, count(*)::float8 as n, sum(converted)::float8 as x,
        sum(failed)::float8 as f
      from exposed group by variant, targeting_key
    ),
    sums as (
      select variant, count(*)::int as units, sum(n)::float8 as exposures,
        sum(x)::float8 as conversions, sum(n * n)::float8 as exposures_squared,
        sum(x * x)::float8 as conversions_squared, sum(x * n)::float8 as product,
        sum(f)::float8 as failures, sum(f * f)::float8 as failures_squared,
        sum(f * n)::float8 as failure_product
      from per_key group by variant
    ),
    latency as (
      select variant,
        percentile_cont(0.5) within group (order by latency_ms) as p50,
        percentile_cont(0.95) within group (order by latency_ms) as p95
      from exposed group by variant
    )
    select s.*, l.p50, l.p95 from sums s left join latency l using (variant)`);
  return (rowsOf(result) as Record<string, number | string | null>[]).map((row) => ({
    variant: String(row.variant),
    units: Number(row.units),
    exposures: Number(row.exposures),
    conversions: Number(row.conversions),
    exposuresSquared: Number(row.exposures_squared),
    conversionsSquared: Number(row.conversions_squared),
    product: Number(row.product),
    failures: Number(row.failures),
    failuresSquared: Number(row.failures_squared),
    failureProduct: Number(row.failure_product),
    latencyP50: row.p50 === null ? null : Number(row.p50),
    latencyP95: row.p95 === null ? null : Number(row.p95),
  }));
}

const EMPTY_ARM = (variant: string): ArmRow => ({
  variant,
  units: 0,
  exposures: 0,
  conversions: 0,
  exposuresSquared: 0,
  conversionsSquared: 0,
  product: 0,
  failures: 0,
  failuresSquared: 0,
  failureProduct: 0,
  latencyP50: null,
  latencyP95: null,
});

/** The failures of an arm as unit sums (failures in place of conversions). */
const failureSums = (arm: ArmRow): UnitSums => ({
  units: arm.units,
  exposures: arm.exposures,
  conversions: arm.failures,
  exposuresSquared: arm.exposuresSquared,
  conversionsSquared: arm.failuresSquared,
  product: arm.failureProduct,
});

export type GuardrailResult = {
  metric: Guardrail['metric'];
  control: number | null;
  variant: number | null;
  /** `error_rate`: the always-valid p-value that the variant fails more often. */
  p_value: number | null;
  breached: boolean;
};

export type VariantDecisionWithGuardrails = VariantDecision | 'guardrail_breached';

export type ArmView = {
  key: string;
  control: boolean;
  weight: number;
  units: number;
  exposures: number;
  conversions: number;
  rate: number;
  rate_interval: Interval;
  design_effect: number;
  error_rate: number;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
};

export type VariantView = ArmView & {
  difference: number;
  relative_lift: number | null;
  fixed_horizon: {
    p_value: number;
    z: number;
    difference_interval: Interval;
    relative_lift_interval: Interval | null;
  };
  sequential: { p_value: number; significant: boolean; difference_interval: Interval };
  guardrails: GuardrailResult[];
  decision: VariantDecisionWithGuardrails;
};

export type ExperimentResults = {
  primary_metric: Metric;
  better: 'higher' | 'lower';
  alpha: number;
  alpha_per_variant: number;
  control: ArmView;
  variants: VariantView[];
  sample_ratio: { chi_square: number; p_value: number; mismatch: boolean };
  decision: ExperimentDecision | 'guardrail_breached';
  winner: string | null;
};

/**
 * The experiment's results at this look, and the always-valid p-values to keep for the next one
 * (`sequential`, by variant, and by `error_rate:<variant>` for the error guardrail).
 *
 * The unit of assignment is the targeting key, so the tests run on counts corrected for a key's
 * exposures being alike (`clustered.ts`); the sample-ratio check counts keys. Per variant
 * against the control: the mSPRT (always valid, at α / variants) decides, the fixed-horizon
 * z-test is shown beside it. Guardrails: `error_rate` is breached when the variant's share of
 * failed or degraded answers is higher than the control's by the same always-valid test;
 * `latency_p95` when, with at least {@link MIN_LATENCY_EXPOSURES} exposures in both arms, the
 * variant's p95 exceeds the control's by more than `max_increase_percent`. A breaching variant
 * cannot win; when no variant wins and one breaches, the decision is `guardrail_breached`.
 */
export async function experimentResults(
  db: Database,
  experiment: ExperimentForResults,
): Promise<{ results: ExperimentResults; sequential: Record<string, number> }> {
  const rows = new Map((await countArms(db, experiment)).map((row) => [row.variant, row]));
  const arms = experiment.variants.map((v) => rows.get(v.key) ?? EMPTY_ARM(v.key));
  const effective = arms.map((arm) => effectiveCounts(arm));
  const better = BETTER[experiment.primaryMetric];
  const analysis = analyzeExperiment(
    arms.map((arm, i) => ({
      id: arm.variant,
      exposures: effective[i]!.exposures,
      conversions: effective[i]!.conversions,
      units: arm.units,
      weight: experiment.variants[i]!.weight,
    })),
    {
      better,
      previousPValues: experiment.sequential,
      ...(experiment.horizon ? { horizon: experiment.horizon } : {}),
    },
  );
  const sequential: Record<string, number> = {};
  const armView = (i: number): ArmView => {
    const arm = arms[i]!;
    const analysed = i === 0 ? analysis.control : analysis.variants[i - 1]!;
    return {
      key: arm.variant,
      control: i === 0,
      weight: experiment.variants[i]!.weight,
      units: arm.units,
      exposures: arm.exposures,
      conversions: arm.conversions,
      rate: arm.exposures > 0 ? arm.conversions / arm.exposures : 0,
      rate_interval: analysed.rateInterval,
      design_effect: effective[i]!.designEffect,
      error_rate: arm.exposures > 0 ? arm.failures / arm.exposures : 0,
      latency_p50_ms: arm.latencyP50,
      latency_p95_ms: arm.latencyP95,
    };
  };
  const controlFailures = effectiveCounts(failureSums(arms[0]!));
  const variants = analysis.variants.map((result, n): VariantView => {
    const i = n + 1;
    const arm = arms[i]!;
    sequential[arm.variant] = result.sequential.pValue;
    const guardrails = experiment.guardrails.map((guardrail): GuardrailResult => {
      if (guardrail.metric === 'error_rate') {
        const stateKey = `error_rate:${arm.variant}`;
        const test = sequentialTest(controlFailures, effectiveCounts(failureSums(arm)), {
          alpha: analysis.alphaPerVariant,
          previousPValue: experiment.sequential[stateKey],
        });
        sequential[stateKey] = test.pValue;
        const controlRate = arms[0]!.exposures > 0 ? arms[0]!.failures / arms[0]!.exposures : 0;
        const variantRate = arm.exposures > 0 ? arm.failures / arm.exposures : 0;
        return {
          metric: 'error_rate',
          control: controlRate,
          variant: variantRate,
          p_value: test.pValue,
          breached: test.significant && variantRate > controlRate,
        };
      }
      const control = arms[0]!.latencyP95;
      const variant = arm.latencyP95;
      const enough =
        arms[0]!.exposures >= MIN_LATENCY_EXPOSURES && arm.exposures >= MIN_LATENCY_EXPOSURES;
      return {
        metric: 'latency_p95',
        control,
        variant,
        p_value: null,
        breached:
          enough &&
          control !== null &&
          variant !== null &&
          variant > control * (1 + (guardrail.max_increase_percent ?? 0) / 100),
      };
    });
    const breached = guardrails.some((g) => g.breached);
    return {
      ...armView(i),
      difference: result.fixedHorizon.difference,
      relative_lift: result.fixedHorizon.relativeLift,
      fixed_horizon: {
        p_value: result.fixedHorizon.pValue,
        z: result.fixedHorizon.z,
        difference_interval: result.fixedHorizon.differenceInterval,
        relative_lift_interval: result.fixedHorizon.relativeLiftInterval,
      },
      sequential: {
        p_value: result.sequential.pValue,
        significant: result.sequential.significant,
        difference_interval: result.sequential.differenceInterval,
      },
      guardrails,
      decision: breached ? 'guardrail_breached' : result.decision,
    };
  });

  let decision: ExperimentResults['decision'] = analysis.decision;
  let winner = analysis.winner;
  if (
    decision !== 'sample_ratio_mismatch' &&
    variants.some((v) => v.decision === 'guardrail_breached')
  ) {
    const winners = variants.filter((v) => v.decision === 'variant_wins');
    const sign = better === 'lower' ? -1 : 1;
    if (winners.length > 0) {
      winner = winners.reduce((best, v) => (sign * (v.rate - best.rate) > 0 ? v : best)).key;
      decision = 'variant_wins';
    } else {
      winner = null;
      decision = 'guardrail_breached';
    }
  }
  return {
    results: {
      primary_metric: experiment.primaryMetric,
      better,
      alpha: DEFAULT_ALPHA,
      alpha_per_variant: analysis.alphaPerVariant,
      control: armView(0),
      variants,
      sample_ratio: {
        chi_square: analysis.sampleRatio.chiSquare,
        p_value: analysis.sampleRatio.pValue,
        mismatch: analysis.sampleRatio.mismatch,
      },
      decision,
      winner,
    },
    sequential,
  };
}
