import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { Schema } from 'hono';
import { CategoryId } from '../../../../shared/content/schema.ts';
import type { HttpDatabase } from '../../../../shared/db/client.ts';
import { categories } from '../../../../shared/db/schema/content.ts';
import { AppError } from '../../../../shared/errors.ts';
import { RankingSettings, RankWeights } from '../../../../shared/search/ranking.ts';
import { forgetRankingSettings } from '../../../../shared/search/settings.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { ifMatchHeader } from '../../if-match.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { replaceSettingsSection, SETTINGS_ETAG_HEADER, settingsEtag } from '../../org-settings.ts';
import {
  PROPAGATION_SECONDS,
  SETTINGS_KEY,
  SearchSettingsSchema,
  settingsView,
} from './settings-get.ts';

/** The most categories with their own weights. */
export const MAX_CATEGORY_WEIGHTS = 200;

const NO_WEIGHT = 'must have at least one weight above 0';

/** Weights as a write takes them: all four named, at least one above 0 (else nothing ranks). */
const WeightsInput = RankWeights.refine(
  (w) => Object.values(w).some((v) => typeof v === 'number' && v > 0),
  NO_WEIGHT,
).openapi({
  description: 'All four weights, each 0 to 10; at least one above 0.',
  example: { relevance: 0.7, popularity: 0.1, freshness: 0.1, personal: 0.1 },
});

/** A write: any field of the ranking settings, each with the rules of {@link RankingSettings}. */
export const SearchSettingsInputSchema = z
  .strictObject({
    fusion: RankingSettings.shape.fusion.optional(),
    semantic_weight: RankingSettings.shape.semantic_weight.optional(),
    weights: WeightsInput.optional(),
    category_weights: z
      .record(CategoryId, WeightsInput, {
        error: (issue) =>
          issue.code === 'invalid_key'
            ? 'must be a category id (cat_…)'
            : 'must be an object of weights by category id',
      })
      .refine(
        (byCategory) => Object.keys(byCategory).length <= MAX_CATEGORY_WEIGHTS,
        `must have at most ${MAX_CATEGORY_WEIGHTS} categories`,
      )
      .optional()
      .openapi({
        description:
          "Weights for the items of a category, by the id of one of the organisation's " +
          `categories (at most ${MAX_CATEGORY_WEIGHTS}), replacing \`weights\` for them.`,
        example: {
          cat_01jd5x3k7yf0v9r2m4q6s8t1wz: {
            relevance: 0.5,
            popularity: 0,
            freshness: 0.5,
            personal: 0,
          },
        },
      }),
    freshness_half_life_days: RankingSettings.shape.freshness_half_life_days.optional(),
    semantic_floor: RankingSettings.shape.semantic_floor.optional(),
    semantic_only_floor: RankingSettings.shape.semantic_only_floor.optional(),
    semantic_min_similarity: RankingSettings.shape.semantic_min_similarity.optional(),
  })
  .openapi('SearchSettingsInput', {
    description:
      'The ranking settings to store. Every field is optional: one left out takes the default ' +
      '(not what was stored before), and `{}` resets them all.',
    example: {
      fusion: 'weighted',
      semantic_weight: 0.6,
      weights: { relevance: 0.6, popularity: 0.1, freshness: 0.2, personal: 0.1 },
    },
  });
export type SearchSettingsInput = z.infer<typeof SearchSettingsInputSchema>;

const IfMatchHeaderSchema = ifMatchHeader({
  description:
    'Write only if the stored settings are still at this `ETag` (from a read or a write), ' +
    'else `412` with `current_etag`. Without it the last writer wins.',
  example: '"5f0c3a9d8b2e4c1f7a6d9e0b3c2f1a4e"',
});

export const route = createRoute({
  method: 'put',
  path: '/v1/search/settings',
  tags: ['search'],
  summary: 'Replace the search ranking settings',
  description:
    'Stores the ranking settings: the fusion method, its semantic share, the re-rank weights, ' +
    'weights per category, the freshness half-life and the semantic floors. Fields left out take the defaults; `{}` ' +
    "resets them all. Each category id must name one of the organisation's categories (`422`). " +
    '`If-Match` with the `ETag` of a read makes it conditional: `412` with `current_etag` when ' +
    'the settings have changed since. Searches answered by this instance use the new settings ' +
    `at once; every other one within ${PROPAGATION_SECONDS} seconds. Audited as ` +
    '`search.settings.update` with the stored settings before and after. Needs ' +
    '`settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('settings:manage')] as const,
  request: {
    headers: IfMatchHeaderSchema,
    body: {
      required: true,
      content: { 'application/json': { schema: SearchSettingsInputSchema } },
    },
  },
  responses: {
    200: {
      description: 'The settings as now stored and applied.',
      headers: SETTINGS_ETAG_HEADER,
      content: { 'application/json': { schema: SearchSettingsSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'PRECONDITION_FAILED',
      'UNSUPPORTED_MEDIA_TYPE',
      'UNPROCESSABLE',
      'RATE_LIMITED',
      ...COMMON_PROBLEMS,
    ),
  },
});

/** 422 naming every category id that is not a live category of the organisation. */
export async function checkCategories(
  db: HttpDatabase,
  orgId: string,
  ids: string[],
): Promise<void> {
  if (ids.length === 0) return;
  const rows = await db
    .select({ id: categories.id })
    .from(categories)
    .where(
      and(eq(categories.orgId, orgId), inArray(categories.id, ids), isNull(categories.deletedAt)),
    );
  const found = new Set(rows.map((r) => r.id));
  const errors = ids
    .filter((id) => !found.has(id))
    .map((id) => ({
      path: `body.category_weights.${id}`,
      message: 'must be a category of this organisation',
    }));
  if (errors.length === 0) return;
  throw new AppError({
    code: 'UNPROCESSABLE',
    message:
      errors.length === 1
        ? `${errors[0]!.path}: ${errors[0]!.message}`
        : `${errors.length} categories are not the organisation's; see errors`,
    errors,
  });
}

export function registerSearchSettingsPut<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const body = c.req.valid('json');
    const ifMatch = c.req.valid('header')['if-match'];
    const { services } = c.var;
    await checkCategories(services.db, orgId, Object.keys(body.category_weights ?? {}));
    // Only the fields given are stored, so the others follow the defaults; `{}` stores nothing.
    const next = Object.keys(body).length > 0 ? body : null;
    const { before, after } = await replaceSettingsSection(services, orgId, SETTINGS_KEY, next, {
      ifMatch,
      what: 'search settings',
    });
    forgetRankingSettings(orgId);
    audit(c, {
      action: 'search.settings.update',
      targetType: 'organization',
      targetId: orgId,
      data: { before, after },
    });
    return c.json(settingsView(after), 200, { ETag: await settingsEtag(after) });
  });
}
