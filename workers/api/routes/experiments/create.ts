import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { principalId } from '../../../../shared/auth/permissions.ts';
import { sqlState } from '../../../../shared/db/errors.ts';
import { experiments } from '../../../../shared/db/schema/experiments.ts';
import { AppError } from '../../../../shared/errors.ts';
import { newSalt } from '../../../../shared/flags/bucket.ts';
import { newId } from '../../../../shared/ids.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { IdempotencyKeyHeaderSchema, idempotent } from '../../middleware/idempotency.ts';
import { COMMON_PROBLEMS, problemResponses, z } from '../../openapi.ts';
import { checkCategories } from '../search/settings-put.ts';
import {
  ETAG_HEADER,
  ExperimentCreateSchema,
  ExperimentSchema,
  experimentEtag,
  experimentView,
} from './schema.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/experiments',
  tags: ['experiments'],
  summary: 'Create an experiment (a draft)',
  description:
    'Adds a draft experiment on the search ranking settings or the recommendation blend: its ' +
    'variants (the first is the control and changes nothing; each other one overrides some ' +
    'settings, checked as `PUT /v1/search/settings` or `PUT /v1/recommendations/settings` ' +
    'would check them), their weights (summing to 100), the share of traffic, the primary ' +
    'metric and guardrails. A `400` names the field and rule (`body.variants.1.settings.weights`); ' +
    "a category id that is not the organisation's is a `422`. `POST …/start` starts it. " +
    'Audited as `experiment.create`; `Idempotency-Key` makes a retry safe. Needs `settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('settings:manage'), idempotent()] as const,
  request: {
    headers: IdempotencyKeyHeaderSchema,
    body: { required: true, content: { 'application/json': { schema: ExperimentCreateSchema } } },
  },
  responses: {
    201: {
      description: 'The experiment, a draft.',
      headers: ETAG_HEADER.extend({
        Location: z.string().openapi({ example: '/v1/experiments/exp_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
      }),
      content: { 'application/json': { schema: ExperimentSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'CONFLICT',
      'UNSUPPORTED_MEDIA_TYPE',
      'UNPROCESSABLE',
      'RATE_LIMITED',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerExperimentsCreate<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const principal = c.var.principal!;
    const { orgId } = principal;
    const body = c.req.valid('json');
    const { services } = c.var;
    if (body.surface === 'search') {
      const ids = body.variants.flatMap((v) =>
        Object.keys((v.settings?.category_weights as object | undefined) ?? {}),
      );
      await checkCategories(services.db, orgId, [...new Set(ids)]);
    }
    const actor = principalId(principal);
    let row: typeof experiments.$inferSelect;
    try {
      [row] = (await services.db
        .insert(experiments)
        .values({
          id: newId('experiment'),
          orgId,
          key: body.key,
          description: body.description ?? null,
          surface: body.surface,
          variants: body.variants.map((v) => ({
            key: v.key,
            weight: v.weight,
            settings: v.settings ?? {},
          })),
          trafficPercent: body.traffic_percent,
          primaryMetric: body.primary_metric,
          guardrails: body.guardrails,
          horizon: body.horizon ?? null,
          salt: newSalt(),
          createdBy: actor,
          updatedBy: actor,
        })
        .returning()) as [typeof experiments.$inferSelect];
    } catch (error) {
      if (sqlState(error) === '23505') {
        throw new AppError({
          code: 'CONFLICT',
          message: `An experiment "${body.key}" already exists.`,
        });
      }
      throw error;
    }
    const view = experimentView(row);
    audit(c, {
      action: 'experiment.create',
      targetType: 'experiment',
      targetId: row.id,
      data: { before: null, after: view },
    });
    return c.json(view, 201, {
      ETag: experimentEtag(row),
      Location: `/v1/experiments/${row.id}`,
    });
  });
}
