import { z } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import { ACTOR_DESCRIPTION, ActorRefSchema } from '../../../../shared/actor.ts';
import { experiments } from '../../../../shared/db/schema/experiments.ts';
import { AppError } from '../../../../shared/errors.ts';
import {
  ALL_METRICS,
  METRICS,
  type Metric,
  SURFACES,
  type Surface,
} from '../../../../shared/experiments/assign.ts';
import type { ExperimentForResults } from '../../../../shared/experiments/results.ts';
import { FlagKeySchema } from '../../../../shared/flags/schema.ts';
import { BlendInput } from '../../../../shared/recommend/settings.ts';
import type { Database } from '../../../../shared/search/database.ts';
import { ifMatchAllows, ifMatchHeader, preconditionFailed } from '../../if-match.ts';
import { PageCursor, pageLimit } from '../../pagination.ts';
import { idParams } from '../../params.ts';
import { SearchSettingsInputSchema } from '../search/settings-put.ts';

export type ExperimentRow = typeof experiments.$inferSelect;

/** Variants an experiment may have, the control included. */
export const MAX_VARIANTS = 5;

const VariantKey = FlagKeySchema;
const Percent = (what: string) =>
  z
    .number()
    .min(0.01, 'must be at least 0.01')
    .max(100, 'must be at most 100')
    .refine((v) => Math.abs(v * 100 - Math.round(v * 100)) < 1e-9, 'must have at most two decimals')
    .openapi({ description: what });

const VariantInput = z.strictObject({
  key: VariantKey.openapi({ example: 'fresher' }),
  weight: Percent("The variant's share of the experiment's traffic, in %: the weights sum to 100."),
  settings: z
    .record(z.string(), z.unknown())
    .optional()
    .openapi({
      description:
        'What the variant changes: for `search`, any fields of `PUT /v1/search/settings`; for ' +
        '`recommendations`, any fields of `PUT /v1/recommendations/settings`. Each replaces the ' +
        "organisation's stored value for the variant's readers. The first variant is the " +
        'control: it changes nothing (no `settings`, or `{}`).',
      example: { freshness_half_life_days: 7 },
    }),
});

const GuardrailInput = z.discriminatedUnion('metric', [
  z.strictObject({ metric: z.literal('error_rate') }),
  z.strictObject({
    metric: z.literal('latency_p95'),
    max_increase_percent: z
      .number()
      .min(0, 'must be at least 0')
      .max(1000, 'must be at most 1000')
      .default(20)
      .openapi({
        description: "How much slower than the control's p95 the variant's may be, in %.",
      }),
  }),
]);

/** The rules one field cannot say alone: surface-dependent settings and metrics, sums, keys. */
function checkExperiment(
  body: {
    surface: Surface;
    variants: { key: string; weight: number; settings?: Record<string, unknown> | undefined }[];
    primary_metric: Metric;
    guardrails: { metric: string }[];
  },
  ctx: z.RefinementCtx,
): void {
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: 'custom', path, message });
  if (!METRICS[body.surface].includes(body.primary_metric)) {
    issue(
      ['primary_metric'],
      `must be one of ${METRICS[body.surface].join(', ')} for a ${body.surface} experiment`,
    );
  }
  const total = body.variants.reduce((sum, v) => sum + Math.round(v.weight * 100), 0);
  if (total !== 10_000) issue(['variants'], 'the weights must sum to 100');
  const keys = new Set<string>();
  body.variants.forEach((variant, i) => {
    if (keys.has(variant.key))
      issue(['variants', i, 'key'], `"${variant.key}" is already a variant`);
    keys.add(variant.key);
    const settings = variant.settings ?? {};
    if (i === 0) {
      if (Object.keys(settings).length > 0) {
        issue(['variants', 0, 'settings'], 'must be empty: the first variant is the control');
      }
      return;
    }
    if (Object.keys(settings).length === 0) {
      issue(
        ['variants', i, 'settings'],
        'must change at least one setting (only the control changes none)',
      );
      return;
    }
    const schema = body.surface === 'search' ? SearchSettingsInputSchema : BlendInput;
    const parsed = schema.safeParse(settings);
    if (!parsed.success) {
      for (const problem of parsed.error.issues) {
        issue(
          ['variants', i, 'settings', ...(problem.path as (string | number)[])],
          problem.message,
        );
      }
    }
  });
  const metrics = new Set<string>();
  body.guardrails.forEach((guardrail, i) => {
    if (metrics.has(guardrail.metric)) issue(['guardrails', i, 'metric'], 'is already a guardrail');
    metrics.add(guardrail.metric);
  });
}

export const ExperimentCreateSchema = z
  .strictObject({
    key: FlagKeySchema.openapi({
      description: 'Unique in the organisation: letters, digits, ".", "_", "-".',
      example: 'fresher-ranking',
    }),
    description: z.string().max(1000).nullable().optional(),
    surface: z.enum(SURFACES).openapi({
      description:
        'What the variants change: the search ranking settings or the recommendation blend.',
    }),
    variants: z
      .array(VariantInput)
      .min(2, 'must have a control and at least one variant')
      .max(MAX_VARIANTS, `must have at most ${MAX_VARIANTS} variants`),
    traffic_percent: Percent(
      'The share of targeting keys in the experiment, in % (default 100); the others get the ' +
        'stored settings and are not counted.',
    ).default(100),
    primary_metric: z.enum(ALL_METRICS).openapi({
      description:
        '`click_through_rate` (searches or lists with a click), `zero_result_rate` (search ' +
        'only; lower is better) or `conversion_rate` (followed by `content.converted`).',
    }),
    guardrails: z
      .array(GuardrailInput)
      .max(2)
      .default([])
      .openapi({
        description:
          '`error_rate` (failed or degraded answers: breached when significantly higher than ' +
          "the control's) and `latency_p95` (breached past `max_increase_percent`).",
      }),
    horizon: z
      .number()
      .int()
      .min(100, 'must be at least 100')
      .max(100_000_000, 'must be at most 100000000')
      .nullable()
      .optional()
      .openapi({
        description:
          'Planned exposures per variant: once every arm has them, an undecided variant is ' +
          'called `no_difference`. Without it the experiment keeps running until decided.',
      }),
  })
  .superRefine(checkExperiment)
  .openapi('ExperimentCreate', {
    example: {
      key: 'fresher-ranking',
      surface: 'search',
      variants: [
        { key: 'control', weight: 50 },
        { key: 'fresher', weight: 50, settings: { freshness_half_life_days: 7 } },
      ],
      primary_metric: 'click_through_rate',
      guardrails: [{ metric: 'error_rate' }, { metric: 'latency_p95', max_increase_percent: 20 }],
    },
  });
export type ExperimentCreate = z.infer<typeof ExperimentCreateSchema>;

export const ExperimentSchema = z
  .object({
    id: z.string().openapi({ example: 'exp_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
    key: z.string().openapi({ example: 'fresher-ranking' }),
    description: z.string().nullable(),
    surface: z.enum(SURFACES),
    status: z.enum(['draft', 'running', 'paused', 'stopped']).openapi({
      description:
        '`draft` (serves nothing), `running` (assigns and counts), `paused` (everyone gets the ' +
        'stored settings; nothing counted) or `stopped` (final).',
    }),
    variants: z.array(
      z.object({
        key: z.string(),
        weight: z.number(),
        settings: z.record(z.string(), z.unknown()),
      }),
    ),
    traffic_percent: z.number(),
    primary_metric: z.enum(ALL_METRICS),
    guardrails: z.array(
      z.object({
        metric: z.enum(['error_rate', 'latency_p95']),
        max_increase_percent: z.number().optional(),
      }),
    ),
    horizon: z.number().int().nullable(),
    salt: z.string().openapi({
      description:
        'Seeds assignment: a key is in when SHA-256(salt + "." + key) falls within ' +
        '`traffic_percent`, and gets the variant SHA-256(salt + ".variant." + key) falls in.',
    }),
    version: z.number().int(),
    started_at: z.iso.datetime().nullable(),
    stopped_at: z.iso.datetime().nullable(),
    promoted_variant: z.string().nullable(),
    promoted_at: z.iso.datetime().nullable(),
    created_by: ActorRefSchema.meta({ description: `Who created it: ${ACTOR_DESCRIPTION}.` }),
    updated_by: ActorRefSchema.meta({ description: `Who changed it last: ${ACTOR_DESCRIPTION}.` }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .openapi('Experiment');
export type ExperimentView = z.infer<typeof ExperimentSchema>;

export const ExperimentPageSchema = z
  .object({ items: z.array(ExperimentSchema), next_cursor: z.string().nullable() })
  .openapi('ExperimentPage');

export const ExperimentIdParamsSchema = idParams('experiment');

export const ExperimentListQuerySchema = z.object({
  status: z
    .enum(['draft', 'running', 'paused', 'stopped'])
    .optional()
    .openapi({ description: 'Only experiments in this status.' }),
  surface: z
    .enum(SURFACES)
    .optional()
    .openapi({ description: 'Only experiments on this surface.' }),
  limit: pageLimit('Experiments'),
  cursor: PageCursor,
});

export const ETAG_HEADER = z.object({
  ETag: z.string().openapi({
    description: 'The experiment as it now is; send it as `If-Match` to change only this state.',
    example: '"exp_01jd5x3k7yf0v9r2m4q6s8t1wz.2"',
  }),
});

export const IfMatchHeaderSchema = ifMatchHeader({
  description:
    'Change only if the experiment is still at this `ETag` (from a read or a write), else ' +
    '`412` with `current_etag`. Without it the last writer wins.',
  example: '"exp_01jd5x3k7yf0v9r2m4q6s8t1wz.2"',
  maxLength: 200,
});

/** An experiment's strong ETag: its id and version. */
export function experimentEtag(row: Pick<ExperimentRow, 'id' | 'version'>): string {
  return `"${row.id}.${row.version}"`;
}

export function experimentNotFound(): AppError {
  return new AppError({ code: 'NOT_FOUND', message: 'There is no experiment with this id.' });
}

/** The organisation's experiment `id`, locked `for update` when `lock`; else a `404`. */
export async function findExperiment(
  db: Database,
  orgId: string,
  id: string,
  lock = false,
): Promise<ExperimentRow> {
  const query = db
    .select()
    .from(experiments)
    .where(and(eq(experiments.orgId, orgId), eq(experiments.id, id)));
  const [row] = await (lock ? query.for('update') : query);
  if (!row) throw experimentNotFound();
  return row;
}

/**
 * The organisation's experiment `id`, locked for the change `tx` makes: a `404` when there is
 * none, a `412` when `ifMatch` is given and does not name its state.
 */
export async function lockedExperiment(
  tx: Database,
  orgId: string,
  id: string,
  ifMatch: string | undefined,
): Promise<ExperimentRow> {
  const row = await findExperiment(tx, orgId, id, true);
  const etag = experimentEtag(row);
  if (ifMatch !== undefined && !ifMatchAllows(ifMatch, etag)) {
    throw preconditionFailed(etag, 'state of the experiment');
  }
  return row;
}

/** An experiment as the API shows it. */
export function experimentView(row: ExperimentRow): ExperimentView {
  return ExperimentSchema.parse({
    id: row.id,
    key: row.key,
    description: row.description,
    surface: row.surface,
    status: row.status,
    variants: row.variants,
    traffic_percent: row.trafficPercent,
    primary_metric: row.primaryMetric,
    guardrails: row.guardrails,
    horizon: row.horizon,
    salt: row.salt,
    version: row.version,
    started_at: row.startedAt?.toISOString() ?? null,
    stopped_at: row.stoppedAt?.toISOString() ?? null,
    promoted_variant: row.promotedVariant,
    promoted_at: row.promotedAt?.toISOString() ?? null,
    created_by: row.createdBy,
    updated_by: row.updatedBy,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  });
}

/** What the results need of a stored experiment. */
export function forResults(row: ExperimentRow): ExperimentForResults {
  return {
    id: row.id,
    orgId: row.orgId,
    surface: row.surface,
    primaryMetric: row.primaryMetric as Metric,
    variants: row.variants,
    guardrails: row.guardrails,
    horizon: row.horizon,
    startedAt: row.startedAt,
    sequential: row.sequential,
  };
}
