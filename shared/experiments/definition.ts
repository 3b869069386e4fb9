import { and, eq } from 'drizzle-orm';
import { experiments } from '../db/schema/experiments.ts';
import { orgCache } from '../org-cache.ts';
import type { Services } from '../services.ts';
import { type Assignment, assign, type RunningExperiment, type Surface } from './assign.ts';

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
