import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { and, eq, inArray } from 'drizzle-orm';
import type { Schema } from 'hono';
import { categories } from '../../../../shared/db/schema/index.ts';
import { MIN_SUPPORT, trendingFacets } from '../../../../shared/recommend/trending.ts';
import type { AppBindings } from '../../app.ts';
import { BooleanParam, FILTER_PARAMS, limitParam } from '../../filters.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { TrendingQuerySchema, TrendingWindowSchema } from './items.ts';

export const TrendingFacetsQuerySchema = z.object({
  window: TrendingQuerySchema.shape.window,
  limit: limitParam('How many categories, and how many tags (1–20, default 10).', 20, 10),
  locale: FILTER_PARAMS.locale.openapi({
    description: "What is rising among readers of this language (their events' `locale`).",
    example: 'ar',
  }),
  explain: BooleanParam.default(false).openapi({ description: "Each facet's figures." }),
});

const Figures = z
  .object({
    current: z.number().openapi({ description: 'Weighted engagement in the window.' }),
    baseline: z.number().openapi({ description: 'Weighted engagement in the baseline.' }),
    expected: z.number().openapi({ description: 'What the baseline predicts for one window.' }),
  })
  .optional();

export const TrendingFacetsSchema = z
  .object({
    window: TrendingWindowSchema,
    categories: z.array(
      z.object({
        id: z.string(),
        slug: z.string().nullable(),
        score: z.number(),
        explain: Figures,
      }),
    ),
    tags: z.array(z.object({ tag: z.string(), score: z.number(), explain: Figures })),
  })
  .openapi('TrendingFacets');

export const route = createRoute({
  method: 'get',
  path: '/v1/trending/facets',
  tags: ['recommendations'],
  summary: 'Categories and tags rising',
  description:
    'The same score as `GET /v1/trending`, over the summed engagement of the published items of ' +
    'each category and each tag: a category rises when its items together are read more than ' +
    `usual, even if none stands out alone. At least ${MIN_SUPPORT} weighted events in the ` +
    "window; filter by readers' `locale`. Needs `content:read`.",
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:read')] as const,
  request: { query: TrendingFacetsQuerySchema },
  responses: {
    200: {
      description: 'The rising categories and tags, most first.',
      content: { 'application/json': { schema: TrendingFacetsSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerTrendingFacets<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const query = c.req.valid('query');
    const principal = c.var.principal!;
    const { services } = c.var;
    const facets = await trendingFacets(
      services,
      principal.orgId,
      query.window,
      query.locale,
      query.limit,
      new Date(),
    );
    const ids = facets.categories.map((f) => f.value);
    const slugs = new Map(
      ids.length === 0
        ? []
        : (
            await services.guard('postgres', () =>
              services.db
                .select({ id: categories.id, slug: categories.slug })
                .from(categories)
                .where(and(eq(categories.orgId, principal.orgId), inArray(categories.id, ids))),
            )
          ).map((row) => [row.id, row.slug]),
    );
    const figures = (f: { current: number; baseline: number; expected: number }) =>
      query.explain
        ? { explain: { current: f.current, baseline: f.baseline, expected: f.expected } }
        : {};
    return c.json(
      TrendingFacetsSchema.parse({
        window: query.window,
        categories: facets.categories.map((f) => ({
          id: f.value,
          slug: slugs.get(f.value) ?? null,
          score: f.score,
          ...figures(f),
        })),
        tags: facets.tags.map((f) => ({ tag: f.value, score: f.score, ...figures(f) })),
      }),
      200,
    );
  });
}
