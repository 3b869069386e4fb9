import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { and, desc, eq, gte, inArray, isNotNull, lt, or, type SQL, sql } from 'drizzle-orm';
import type { Schema } from 'hono';
import { topics } from '../../../../shared/db/schema/index.ts';
import { inLanguage } from '../../../../shared/recommend/sql.ts';
import { LIFECYCLES } from '../../../../shared/trends/score.ts';
import type { AppBindings } from '../../app.ts';
import { FILTER_PARAMS, limitParam, MAX_FILTER_VALUES } from '../../filters.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { PageCursor } from '../../pagination.ts';
import {
  decodeTrendCursor,
  encodeTrendCursor,
  lifecycleList,
  TopicSummarySchema,
  TREND_WINDOWS,
  TrendWindowSchema,
  topicView,
} from './schema.ts';

export const TrendsQuerySchema = z.object({
  window: TrendWindowSchema.default('24h'),
  lifecycle: lifecycleList.optional().openapi({
    description:
      'Topics in any of these lifecycles (`emerging`, `rising`, `peaking`, `declining`): repeat ' +
      `the parameter or use commas; at most ${LIFECYCLES.length} values.`,
    example: 'emerging,rising',
  }),
  category: FILTER_PARAMS.category.openapi({
    description: `Topics whose items are mostly in any of these categories (\`cat_…\`): repeat the parameter or use commas; at most ${MAX_FILTER_VALUES} values.`,
    example: 'cat_01jd5x3k7yf0v9r2m4q6s8t1wz',
  }),
  locale: FILTER_PARAMS.locale.openapi({
    description: 'Topics with items written in this language (`ar` matches `ar` and `ar-EG`).',
    example: 'ar',
  }),
  limit: limitParam('How many topics per page (1–50, default 10).'),
  cursor: PageCursor,
});

export const TrendsResponseSchema = z
  .object({
    window: TrendWindowSchema,
    items: z.array(TopicSummarySchema),
    next_cursor: z.string().nullable(),
  })
  .openapi('Trends');

export const route = createRoute({
  method: 'get',
  path: '/v1/trends',
  tags: ['recommendations'],
  summary: 'Topics trending: clusters of recent items whose activity is rising',
  description:
    "Your organisation's topics (recent published items in either language, clustered by " +
    'their meaning) that were significant in the window: their new items and engagement well ' +
    'above their own seasonal baseline, sustained, and above a minimum support. Best score ' +
    'first; recomputed every five minutes. Filter by `lifecycle`, `category` and `locale`. ' +
    'Needs `content:read`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:read')] as const,
  request: { query: TrendsQuerySchema },
  responses: {
    200: {
      description: 'The trending topics, best score first.',
      content: { 'application/json': { schema: TrendsResponseSchema } },
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

export function registerTrendsList<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const query = c.req.valid('query');
    const { orgId } = c.var.principal!;
    const { services } = c.var;
    const since = new Date(Date.now() - TREND_WINDOWS[query.window]);
    const conditions: (SQL | undefined)[] = [
      eq(topics.orgId, orgId),
      eq(topics.status, 'active'),
      isNotNull(topics.lifecycle),
      gte(topics.lastSignificantAt, since),
      query.lifecycle ? inArray(topics.lifecycle, query.lifecycle) : undefined,
      query.category ? inArray(topics.categoryId, query.category) : undefined,
      query.locale
        ? sql`exists (select 1 from unnest(${topics.locales}) as l(locale)
            where ${inLanguage(sql`l.locale`, query.locale)})`
        : undefined,
    ];
    if (query.cursor !== undefined) {
      const after = decodeTrendCursor(query.cursor);
      conditions.push(
        or(lt(topics.score, after.s), and(eq(topics.score, after.s), lt(topics.id, after.id))),
      );
    }
    const rows = await services.guard('postgres', () =>
      services.db
        .select()
        .from(topics)
        .where(and(...conditions))
        .orderBy(desc(topics.score), desc(topics.id))
        .limit(query.limit + 1),
    );
    const items = rows.slice(0, query.limit);
    const last = items.at(-1);
    return c.json(
      TrendsResponseSchema.parse({
        window: query.window,
        items: items.map(topicView),
        next_cursor:
          rows.length > query.limit && last ? encodeTrendCursor(last.score, last.id) : null,
      }),
      200,
    );
  });
}
