/**
 * What an experiment is, pure: its surfaces and metrics, and where a targeting key falls in it.
 * No I/O and no Worker types, so Node tools (the sample data) share it with the Worker.
 */
import type { ExperimentVariant } from '../db/schema/experiments.ts';
import { bucketOf, inRollout, splitEntry } from '../flags/bucket.ts';

/** What an experiment can change: the search ranking settings or the recommendation blend. */
export const SURFACES = ['search', 'recommendations'] as const;
export type Surface = (typeof SURFACES)[number];

/**
 * The primary metrics of each surface, each a share of exposures (searches served, or lists of
 * recommendations served):
 * - `click_through_rate`: with at least one result click (`search.result_clicked` with the
 *   search's `query_id`; `recommendation.clicked` with the list's `recomm_id`);
 * - `zero_result_rate` (search only; lower is better): that found nothing;
 * - `conversion_rate`: followed by a `content.converted` event carrying the `query_id` or the
 *   `recomm_id`.
 */
export const METRICS: Record<Surface, readonly Metric[]> = {
  search: ['click_through_rate', 'zero_result_rate', 'conversion_rate'],
  recommendations: ['click_through_rate', 'conversion_rate'],
};
export const ALL_METRICS = ['click_through_rate', 'zero_result_rate', 'conversion_rate'] as const;
export type Metric = (typeof ALL_METRICS)[number];

/** Which way each metric is better. */
export const BETTER: Record<Metric, 'higher' | 'lower'> = {
  click_through_rate: 'higher',
  zero_result_rate: 'lower',
  conversion_rate: 'higher',
};

/** A running experiment, as serving needs it. */
export type RunningExperiment = {
  id: string;
  key: string;
  variants: ExperimentVariant[];
  trafficPercent: number;
  salt: string;
};

/** A targeting key's place in an experiment. */
export type Assignment = {
  experimentId: string;
  experimentKey: string;
  variant: string;
  /** What the variant overrides (`{}` for the control). */
  settings: Record<string, unknown>;
  targetingKey: string;
};

/**
 * Where `targetingKey` falls in `experiment`, through the flags' bucketing
 * (`shared/flags/bucket.ts`): in the experiment when its bucket under `salt` is within
 * `traffic_percent` (so widening the traffic only adds keys), then the variant whose share its
 * bucket under `salt + ".variant"` falls in (an independent hash, so every share of the traffic
 * splits alike). Null when the key is outside the traffic.
 */
export function assign(experiment: RunningExperiment, targetingKey: string): Assignment | null {
  if (!inRollout(bucketOf(experiment.salt, targetingKey), experiment.trafficPercent)) return null;
  const variant = splitEntry(
    bucketOf(`${experiment.salt}.variant`, targetingKey),
    experiment.variants,
  );
  if (!variant) return null;
  return {
    experimentId: experiment.id,
    experimentKey: experiment.key,
    variant: variant.key,
    settings: variant.settings,
    targetingKey,
  };
}
