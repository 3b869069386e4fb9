import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import type { Schema } from 'hono';
import { experiments } from '../../../../shared/db/schema/experiments.ts';
import { ALL_METRICS } from '../../../../shared/experiments/assign.ts';
import {
  type ExperimentResults,
  experimentResults,
  MIN_LATENCY_EXPOSURES,
} from '../../../../shared/experiments/results.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses, z } from '../../openapi.ts';
import {
  ExperimentIdParamsSchema,
  type ExperimentRow,
  forResults,
  lockedExperiment,
} from './schema.ts';

const IntervalSchema = z.object({ lower: z.number(), upper: z.number() });

const ArmFields = {
  key: z.string(),
  control: z.boolean(),
  weight: z.number(),
  units: z
    .number()
    .int()
    .openapi({ description: 'Targeting keys exposed (the unit of assignment).' }),
  exposures: z
    .number()
    .int()
    .openapi({ description: 'Searches or lists served under the variant.' }),
  conversions: z.number().int().openapi({ description: 'Exposures that converted (the metric).' }),
  rate: z.number().openapi({ description: 'conversions / exposures.' }),
  rate_interval: IntervalSchema.openapi({ description: "The rate's 95% Wilson interval." }),
  design_effect: z.number().openapi({
    description:
      "How much a key's exposures being alike widens the variance (≥ 1): the tests count " +
      'exposures / design_effect independent trials.',
  }),
  error_rate: z.number().openapi({ description: 'Exposures that failed or answered degraded.' }),
  latency_p50_ms: z.number().nullable(),
  latency_p95_ms: z.number().nullable(),
};

const ResultsSchema = z
  .object({
    experiment_id: z.string(),
    key: z.string(),
    status: z.enum(['draft', 'running', 'paused', 'stopped']),
    computed_at: z.iso.datetime(),
    primary_metric: z.enum(ALL_METRICS),
    better: z.enum(['higher', 'lower']),
    alpha: z.number(),
    alpha_per_variant: z.number().openapi({
      description: 'α / variants (Bonferroni): every comparison is made at this level.',
    }),
    control: z.object(ArmFields),
    variants: z.array(
      z.object({
        ...ArmFields,
        difference: z.number().openapi({ description: "rate − the control's rate." }),
        relative_lift: z.number().nullable().openapi({
          description: "rate / the control's − 1; null while the control has no conversion.",
        }),
        fixed_horizon: z
          .object({
            p_value: z.number(),
            z: z.number(),
            difference_interval: IntervalSchema,
            relative_lift_interval: IntervalSchema.nullable(),
          })
          .openapi({
            description:
              'The classic two-proportion z-test: valid read once, at a sample size fixed in ' +
              'advance; shown for reference, it never decides.',
          }),
        sequential: z
          .object({
            p_value: z.number(),
            significant: z.boolean(),
            difference_interval: IntervalSchema,
          })
          .openapi({
            description:
              'The mSPRT: its p-value and interval stay valid however often the results are ' +
              'read; it decides.',
          }),
        guardrails: z.array(
          z.object({
            metric: z.enum(['error_rate', 'latency_p95']),
            control: z.number().nullable(),
            variant: z.number().nullable(),
            p_value: z.number().nullable(),
            breached: z.boolean(),
          }),
        ),
        decision: z.enum([
          'keep_running',
          'variant_wins',
          'control_wins',
          'no_difference',
          'guardrail_breached',
        ]),
      }),
    ),
    sample_ratio: z
      .object({ chi_square: z.number(), p_value: z.number(), mismatch: z.boolean() })
      .openapi({
        description:
          'Units per variant against the weights (χ²): a mismatch (p < 0.001) means assignment ' +
          'or recording is broken, and the numbers are not to be trusted.',
      }),
    decision: z.enum([
      'keep_running',
      'variant_wins',
      'control_wins',
      'no_difference',
      'sample_ratio_mismatch',
      'guardrail_breached',
    ]),
    winner: z.string().nullable(),
  })
  .openapi('ExperimentResults');

export const route = createRoute({
  method: 'get',
  path: '/v1/experiments/{id}/results',
  tags: ['experiments'],
  summary: "An experiment's results",
  description:
    'Per variant: targeting keys, exposures, conversions of the primary metric, the rate with ' +
    "its 95% interval, the difference and lift against the control with the fixed-horizon test's " +
    'p-value and intervals, and the sequential test (mSPRT) whose p-value stays valid however ' +
    'often this is read, at α = 0.05 split across the variants. The decision follows the ' +
    'sequential test: `keep_running`, `variant_wins` (with `winner`), `control_wins`, ' +
    '`no_difference` (past `horizon`), `sample_ratio_mismatch` (keys per variant do not fit ' +
    'the weights: do not trust the rest) or `guardrail_breached`. Guardrails: `error_rate` is ' +
    "breached when the variant's failed or degraded answers are significantly more frequent; " +
    `\`latency_p95\` when, past ${MIN_LATENCY_EXPOSURES} exposures per arm, its p95 exceeds the ` +
    "control's by more than `max_increase_percent`. A key's exposures are alike, so the tests " +
    'count them through a design effect (see the README). Needs `settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('settings:manage')] as const,
  request: { params: ExperimentIdParamsSchema },
  responses: {
    200: {
      description: 'The results at this look.',
      content: { 'application/json': { schema: ResultsSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'RATE_LIMITED',
      ...COMMON_PROBLEMS,
    ),
  },
});

/** The results as the API shows them. */
export function resultsView(row: ExperimentRow, results: ExperimentResults, at: Date) {
  return ResultsSchema.parse({
    experiment_id: row.id,
    key: row.key,
    status: row.status,
    computed_at: at.toISOString(),
    ...results,
  });
}

export function registerExperimentsResults<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id } = c.req.valid('param');
    // One look at a time per experiment: each passes its p-values on to the next (a running
    // minimum), which is what keeps the sequential test valid.
    const { row, results } = await c.var.services.transaction(async (tx) => {
      const row = await lockedExperiment(tx, orgId, id, undefined);
      const { results, sequential } = await experimentResults(tx, forResults(row));
      if (row.status === 'running' || row.status === 'paused') {
        // Not a change of the experiment: its `updated_at` and version stay.
        await tx
          .update(experiments)
          .set({ sequential, updatedAt: row.updatedAt })
          .where(eq(experiments.id, row.id));
      }
      return { row, results };
    });
    return c.json(resultsView(row, results, new Date()), 200);
  });
}
