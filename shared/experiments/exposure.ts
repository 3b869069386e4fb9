import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { type Database, rowsOf } from '../search/database.ts';
import type { Services } from '../services.ts';
import type { Assignment } from './assign.ts';

/** The `EVENTS` message type that carries one {@link Exposure}. */
export const EXPOSURE_EVENT = 'experiment.exposure';

export const EXPOSURE_OUTCOMES = ['ok', 'degraded', 'error'] as const;

/** An `experiment_exposures` row, as the edge sends it. */
export const Exposure = z.object({
  experiment_id: z.string().startsWith('exp_').max(64),
  org_id: z.string().startsWith('org_').max(64),
  /** The `query_id` or `recomm_id` of what was served. */
  subject_id: z.string().min(1).max(64),
  variant: z.string().min(1).max(64),
  targeting_key: z.string().min(1).max(256),
  outcome: z.enum(EXPOSURE_OUTCOMES),
  latency_ms: z.number().int().min(0),
  result_count: z.number().int().min(0).nullable(),
  occurred_at: z.iso.datetime(),
});
export type Exposure = z.infer<typeof Exposure>;

/**
 * Records that `assignment`'s variant served `subjectId`, as an `experiment.exposure` message on
 * `EVENTS`, after the response (`waitUntil`). Like a search's own record it never fails the
 * request: a refused send is logged and dropped (the exposure is then missing from both sides'
 * counts alike, which the sample-ratio check would notice if it took one side only).
 */
export function recordExposure(
  services: Pick<Services, 'enqueue' | 'waitUntil' | 'logger'>,
  orgId: string,
  assignment: Assignment,
  served: {
    subjectId: string;
    outcome: Exposure['outcome'];
    latencyMs: number;
    resultCount: number | null;
  },
): void {
  const exposure: Exposure = {
    experiment_id: assignment.experimentId,
    org_id: orgId,
    subject_id: served.subjectId,
    variant: assignment.variant,
    targeting_key: assignment.targetingKey,
    outcome: served.outcome,
    latency_ms: Math.max(0, Math.round(served.latencyMs)),
    result_count: served.resultCount,
    occurred_at: new Date().toISOString(),
  };
  services.waitUntil(
    services.enqueue('events', EXPOSURE_EVENT, exposure, { orgId }).catch((error: unknown) => {
      services.logger.warn('experiment exposure not recorded', {
        experiment_id: assignment.experimentId,
        subject_id: served.subjectId,
        error: error instanceof Error ? error.message : String(error),
      });
    }),
  );
}

/**
 * Writes exposures in one statement, each once however often it is delivered or served (`on
 * conflict do nothing` on (experiment, subject)). Exposures of an experiment that no longer
 * exists, or is not the organisation's, are dropped. Returns how many rows were new.
 */
export async function persistExposures(
  db: Database,
  exposures: readonly Exposure[],
): Promise<number> {
  if (exposures.length === 0) return 0;
  const result = await db.execute(sql`
    insert into experiment_exposures (experiment_id, subject_id, org_id, variant, targeting_key,
      outcome, latency_ms, result_count, occurred_at)
    select e.experiment_id, e.subject_id, e.org_id, e.variant, e.targeting_key, e.outcome,
      e.latency_ms, e.result_count, e.occurred_at
    from jsonb_to_recordset(${JSON.stringify(exposures)}::jsonb) as e(
      experiment_id text, subject_id text, org_id text, variant text, targeting_key text,
      outcome text, latency_ms int, result_count int, occurred_at timestamptz)
    where exists (select 1 from experiments x where x.id = e.experiment_id and x.org_id = e.org_id)
    on conflict (org_id, experiment_id, subject_id) do nothing
    returning subject_id`);
  return rowsOf(result).length;
}
