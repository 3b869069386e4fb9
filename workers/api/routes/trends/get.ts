import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { and, asc, desc, eq, gte } from 'drizzle-orm';
import type { Schema } from 'hono';
import {
  topicChanges,
  topicMembers,
  topicSeries,
  topics,
} from '../../../../shared/db/schema/index.ts';
import { itemTrends } from '../../../../shared/trends/items.ts';
import type { AppBindings } from '../../app.ts';
import { FILTER_PARAMS, limitParam } from '../../filters.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { showRanked } from '../../recommended.ts';
import { TopicDetailSchema, TopicIdParamsSchema, topicNotFound, topicView } from './schema.ts';

const SERIES_DAYS = 7;
const LINEAGE_LIMIT = 100;

export const TrendQuerySchema = z.object({
  locale: FILTER_PARAMS.locale.openapi({
    description: 'The language of the items’ titles (else each item’s default).',
    example: 'ar',
  }),
  limit: limitParam('How many representative items (1–50, default 10).'),
});

export const route = createRoute({
  method: 'get',
  path: '/v1/trends/{id}',
  tags: ['recommendations'],
  summary: 'A topic: its series, keywords, items and lineage',
  description:
    'One of your organisation’s topics, whatever its status: its hourly series (new items and ' +
    'weighted engagement) of the last 7 days, its keywords per language, its most ' +
    'representative published items (each with its own trend score and lifecycle, scored as ' +
    'topics are), and its lineage (created, grew, merged, split, retired). ' +
    'A topic of another organisation is a 404. Needs `content:read`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:read')] as const,
  request: { params: TopicIdParamsSchema, query: TrendQuerySchema },
  responses: {
    200: {
      description: 'The topic.',
      content: { 'application/json': { schema: TopicDetailSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerTrendsGet<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    const query = c.req.valid('query');
    const { orgId } = c.var.principal!;
    const { services } = c.var;
    const [topic] = await services.guard('postgres', () =>
      services.db
        .select()
        .from(topics)
        .where(and(eq(topics.orgId, orgId), eq(topics.id, id)))
        .limit(1),
    );
    if (!topic) throw topicNotFound();
    const since = new Date(Date.now() - SERIES_DAYS * 86_400_000);
    const [series, members, lineage] = await Promise.all([
      services.guard('postgres', () =>
        services.db
          .select({
            hour: topicSeries.hour,
            newItems: topicSeries.newItems,
            engagement: topicSeries.engagement,
          })
          .from(topicSeries)
          .where(
            and(
              eq(topicSeries.orgId, orgId),
              eq(topicSeries.topicId, id),
              gte(topicSeries.hour, since),
            ),
          )
          .orderBy(asc(topicSeries.hour)),
      ),
      services.guard('postgres', () =>
        services.db
          .select({ contentId: topicMembers.contentId, score: topicMembers.similarity })
          .from(topicMembers)
          .where(and(eq(topicMembers.orgId, orgId), eq(topicMembers.topicId, id)))
          .orderBy(desc(topicMembers.similarity), asc(topicMembers.contentId))
          // Room for members unpublished since the last run, which showRanked leaves out.
          .limit(query.limit + 10),
      ),
      services.guard('postgres', () =>
        services.db
          .select()
          .from(topicChanges)
          .where(and(eq(topicChanges.orgId, orgId), eq(topicChanges.topicId, id)))
          // In the order they were recorded (the identity), the newest 100.
          .orderBy(desc(topicChanges.id))
          .limit(LINEAGE_LIMIT),
      ),
    ]);
    const now = new Date();
    const shown = (await showRanked(services, orgId, members, query.locale, null)).slice(
      0,
      query.limit,
    );
    const trends = await itemTrends(
      services,
      orgId,
      shown.map((item) => item.id),
      now,
    );
    const items = shown.map((item) => {
      const trend = trends.get(item.id);
      return { ...item, trend: { score: trend?.score ?? 0, lifecycle: trend?.lifecycle ?? null } };
    });
    return c.json(
      TopicDetailSchema.parse({
        ...topicView(topic),
        status: topic.status,
        merged_into: topic.mergedInto,
        series: series
          .filter((s) => s.newItems > 0 || s.engagement > 0)
          .map((s) => ({
            hour: s.hour.toISOString(),
            new_items: s.newItems,
            engagement: s.engagement,
          })),
        items,
        lineage: lineage.reverse().map((change) => ({
          kind: change.kind,
          related: change.related,
          size: change.size,
          at: change.at.toISOString(),
        })),
      }),
      200,
    );
  });
}
