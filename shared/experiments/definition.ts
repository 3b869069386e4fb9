import { and, eq } from 'drizzle-orm';
import { type ExperimentVariant, experiments } from '../db/schema/experiments.ts';
import { bucketOf, inRollout, splitEntry } from '../flags/bucket.ts';
import { orgCache } from '../org-cache.ts';
import type { Services } from '../services.ts';

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

/** How long an isolate keeps an organisation's running experiments before reading them again. */
export const EXPERIMENTS_TTL_MS = 30_000;

type ExperimentServices = Pick<Services, 'db' | 'guard' | 'logger'>;

const running = orgCache<Partial<Record<Surface, RunningExperiment>>, ExperimentServices>({
  name: 'running experiments',
  ttlMs: EXPERIMENTS_TTL_MS,
  // Unreadable: nobody is in an experiment, and nothing is recorded.
  fallback: {},
  async read(services, orgId) {
    const rows = await services.guard('postgres', () =>
      services.db
        .select({
          id: experiments.id,
          key: experiments.key,
          surface: experiments.surface,
          variants: experiments.variants,
          trafficPercent: experiments.trafficPercent,
          salt: experiments.salt,
        })
        .from(experiments)
        .where(and(eq(experiments.orgId, orgId), eq(experiments.status, 'running'))),
    );
    return Object.fromEntries(rows.map(({ surface, ...experiment }) => [surface, experiment]));
  },
});

/**
 * The targeting key's assignment in the organisation's running experiment on `surface`, or null
 * (none running, the key outside its traffic, no key, or the experiments unreadable). Running
 * experiments are kept in the isolate for {@link EXPERIMENTS_TTL_MS}; a change of status in this
 * isolate applies at once ({@link forgetRunningExperiments}), elsewhere within the TTL.
 */
export async function assignment(
  services: ExperimentServices,
  orgId: string,
  surface: Surface,
  targetingKey: string | undefined,
): Promise<Assignment | null> {
  if (targetingKey === undefined) return null;
  const experiment = (await running.get(services, orgId))[surface];
  return experiment ? assign(experiment, targetingKey) : null;
}

/** Drops the isolate's copy of the organisation's running experiments: after a change. */
export function forgetRunningExperiments(orgId: string): void {
  running.forget(orgId);
}
