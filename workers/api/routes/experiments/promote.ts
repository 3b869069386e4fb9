import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { eq, sql } from 'drizzle-orm';
import type { Schema } from 'hono';
import { principalId } from '../../../../shared/auth/permissions.ts';
import { experiments } from '../../../../shared/db/schema/experiments.ts';
import { organizations } from '../../../../shared/db/schema/tenancy.ts';
import { AppError } from '../../../../shared/errors.ts';
import { experimentResults } from '../../../../shared/experiments/results.ts';
import {
  BLEND_SETTINGS_KEY,
  BlendInput,
  forgetRecommendationBlend,
} from '../../../../shared/recommend/settings.ts';
import { forgetRankingSettings } from '../../../../shared/search/settings.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses, z } from '../../openapi.ts';
import { SETTINGS_KEY } from '../search/settings-get.ts';
import { checkCategories, SearchSettingsInputSchema } from '../search/settings-put.ts';
import {
  ETAG_HEADER,
  ExperimentIdParamsSchema,
  type ExperimentRow,
  ExperimentSchema,
  experimentEtag,
  experimentView,
  forResults,
  IfMatchHeaderSchema,
  lockedExperiment,
} from './schema.ts';

const PromoteSchema = z
  .strictObject({
    variant: z.string().min(1).max(64).optional().openapi({
      description: "The variant to promote; by default the results' winner.",
      example: 'fresher',
    }),
  })
  .openapi('ExperimentPromote');

export const route = createRoute({
  method: 'post',
  path: '/v1/experiments/{id}/promote',
  tags: ['experiments'],
  summary: "Promote a stopped experiment's winner to the stored settings",
  description:
    "Writes the variant's settings over the organisation's stored ones (`settings.search` or " +
    'the recommendation blend), in one transaction with the experiment, which records ' +
    '`promoted_variant`. The variant is `variant`, or the winner of the results now (`409` ' +
    'when there is none). Only a stopped experiment, once (`409`); the control cannot be ' +
    "promoted and every category must still be one of the organisation's (`422`). Searches " +
    'and recommendations in this instance use the new settings at once, elsewhere within 30 s. ' +
    'Audited as `experiment.promote` with the settings before and after. Needs `settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('settings:manage')] as const,
  request: {
    params: ExperimentIdParamsSchema,
    headers: IfMatchHeaderSchema,
    body: { required: false, content: { 'application/json': { schema: PromoteSchema } } },
  },
  responses: {
    200: {
      description: 'The experiment, promoted.',
      headers: ETAG_HEADER,
      content: { 'application/json': { schema: ExperimentSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'CONFLICT',
      'PRECONDITION_FAILED',
      'UNSUPPORTED_MEDIA_TYPE',
      'UNPROCESSABLE',
      'RATE_LIMITED',
      ...COMMON_PROBLEMS,
    ),
  },
});

const unprocessable = (path: string, message: string) =>
  new AppError({
    code: 'UNPROCESSABLE',
    message: `${path}: ${message}`,
    errors: [{ path, message }],
  });

export function registerExperimentsPromote<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const principal = c.var.principal!;
    const { orgId } = principal;
    const { id } = c.req.valid('param');
    const ifMatch = c.req.valid('header')['if-match'];
    const body = (c.req.header('content-type') ? c.req.valid('json') : undefined) ?? {};
    const { services } = c.var;
    const done = await services.transaction(async (tx) => {
      const row = await lockedExperiment(tx, orgId, id, ifMatch);
      if (row.status !== 'stopped') {
        throw new AppError({
          code: 'CONFLICT',
          message: `The experiment is ${row.status}: stop it before promoting a variant.`,
          extensions: { status: row.status },
        });
      }
      if (row.promotedVariant !== null) {
        throw new AppError({
          code: 'CONFLICT',
          message: `The experiment's variant "${row.promotedVariant}" was already promoted.`,
        });
      }
      const key = body.variant ?? (await winnerOf(tx, row));
      const index = row.variants.findIndex((v) => v.key === key);
      if (index < 0) {
        throw unprocessable(
          'body.variant',
          `must be one of the experiment's variants (${row.variants.map((v) => v.key).join(', ')})`,
        );
      }
      if (index === 0) {
        throw unprocessable('body.variant', 'is the control: it changes nothing to promote');
      }
      const settingsKey = row.surface === 'search' ? SETTINGS_KEY : BLEND_SETTINGS_KEY;
      const [org] = await tx
        .select({ settings: organizations.settings })
        .from(organizations)
        .where(eq(organizations.id, orgId))
        .for('update');
      const before = (org?.settings[settingsKey] ?? null) as Record<string, unknown> | null;
      const after = { ...before, ...row.variants[index]!.settings };
      const schema = row.surface === 'search' ? SearchSettingsInputSchema : BlendInput;
      const checked = schema.safeParse(after);
      if (!checked.success) {
        const issue = checked.error.issues[0]!;
        throw unprocessable(
          ['settings', settingsKey, ...issue.path].join('.'),
          `the stored settings with the variant's over them break a rule: ${issue.message}`,
        );
      }
      if (row.surface === 'search') {
        await checkCategories(
          services.db,
          orgId,
          Object.keys((after.category_weights as object | undefined) ?? {}),
        );
      }
      await tx
        .update(organizations)
        .set({
          settings: sql`${organizations.settings} || jsonb_build_object(${settingsKey}::text, ${JSON.stringify(after)}::jsonb)`,
        })
        .where(eq(organizations.id, orgId));
      const [promoted] = await tx
        .update(experiments)
        .set({
          promotedVariant: key,
          promotedAt: new Date(),
          version: row.version + 1,
          updatedBy: principalId(principal),
        })
        .where(eq(experiments.id, row.id))
        .returning();
      return { row: promoted!, variant: key, settingsKey, before, after };
    });
    if (done.row.surface === 'search') forgetRankingSettings(orgId);
    else forgetRecommendationBlend(orgId);
    audit(c, {
      action: 'experiment.promote',
      targetType: 'experiment',
      targetId: id,
      data: {
        variant: done.variant,
        settings: done.settingsKey,
        before: done.before,
        after: done.after,
      },
    });
    return c.json(experimentView(done.row), 200, { ETag: experimentEtag(done.row) });
  });
}

/** The results' winner now; a 409 when there is none. */
async function winnerOf(
  tx: Parameters<typeof experimentResults>[0],
  row: ExperimentRow,
): Promise<string> {
  const { results } = await experimentResults(tx, forResults(row));
  if (results.winner) return results.winner;
  throw new AppError({
    code: 'CONFLICT',
    message: `The results name no winner (decision: ${results.decision}): name the variant to promote.`,
    extensions: { decision: results.decision },
  });
}
