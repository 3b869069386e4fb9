import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { newId } from '../../../../shared/ids.ts';
import {
  MIN_SUPPORT,
  PRIOR,
  TRENDING_WINDOWS,
  type TrendingWindow,
  trendingItems,
} from '../../../../shared/recommend/trending.ts';
import type { AppBindings } from '../../app.ts';
import { BooleanParam, FILTER_PARAMS, limitParam } from '../../filters.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { RecommendedItemFields, showRanked } from '../../recommended.ts';

const WINDOWS = Object.keys(TRENDING_WINDOWS) as [TrendingWindow, ...TrendingWindow[]];

/** The window of trending answers. */
export const TrendingWindowSchema = z.enum(WINDOWS, {
  error: `must be one of ${WINDOWS.join(', ')}`,
});

export const TrendingQuerySchema = z.object({
  window: TrendingWindowSchema.default('24h').openapi({
    description:
      'The window engagement is counted over: `1h` (against the 24 hours before), `24h` ' +
      '(against the 7 days before; the default) or `7d` (against the 28 days before).',
  }),
  limit: limitParam('How many items (1–50, default 10).'),
  category: FILTER_PARAMS.category,
  locale: FILTER_PARAMS.locale.openapi({
    description: "What is trending among readers of this language (their events' `locale`).",
    example: 'ar',
  }),
  explain: BooleanParam.default(false).openapi({ description: "Each item's figures." }),
});

const TrendingItemSchema = z
  .object({
    ...RecommendedItemFields,
    score: z.number().openapi({
      description: 'How many standard deviations above its own baseline the item is.',
    }),
    explain: z
      .object({
        current: z.number().openapi({ description: 'Weighted engagement in the window.' }),
        baseline: z.number().openapi({ description: 'Weighted engagement in the baseline.' }),
        expected: z.number().openapi({ description: 'What the baseline predicts for one window.' }),
        readers: z.number().int().openapi({ description: 'Distinct readers in the window.' }),
      })
      .optional(),
  })
  .openapi('TrendingItem');

export const TrendingResponseSchema = z
  .object({
    recomm_id: z.string().openapi({
      description:
        'Names this list: send it as `context.recomm_id` with `recommendation.clicked` events.',
    }),
    window: TrendingWindowSchema,
    items: z.array(TrendingItemSchema),
  })
  .openapi('Trending');

export const route = createRoute({
  method: 'get',
  path: '/v1/trending',
  tags: ['recommendations'],
  summary: 'Items trending now: engagement rising above their own baseline',
  description:
    'Published items of your organisation whose engagement in the window is furthest above what ' +
    'their own history predicts: the score is `(current − expected) / √expected`, `current` ' +
    'the weighted engagement (views 1, clicks and likes 2, shares 3, conversions 4) in the ' +
    'window, `expected` the baseline period scaled to the window (at least ' +
    `${PRIOR}). Velocity, not raw counts: a steady favourite does not trend. At least ` +
    `${MIN_SUPPORT} weighted events in the window. Filter by \`category\` and by readers' ` +
    '`locale`. Needs `content:read`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:read')] as const,
  request: { query: TrendingQuerySchema },
  responses: {
    200: {
      description: 'The trending items, most first.',
      content: { 'application/json': { schema: TrendingResponseSchema } },
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

export function registerTrendingItems<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const query = c.req.valid('query');
    const principal = c.var.principal!;
    const { services } = c.var;
    const trending = await trendingItems(
      services,
      principal.orgId,
      query.window,
      { categories: query.category, locale: query.locale },
      query.limit,
      new Date(),
    );
    const items = await showRanked(
      services,
      principal.orgId,
      trending,
      query.locale,
      query.explain
        ? (t) => ({
            current: t.current,
            baseline: t.baseline,
            expected: t.expected,
            readers: t.readers,
          })
        : null,
    );
    return c.json(
      TrendingResponseSchema.parse({
        recomm_id: newId('recommendation'),
        window: query.window,
        items,
      }),
      200,
    );
  });
}
