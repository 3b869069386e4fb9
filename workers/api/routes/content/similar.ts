import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { ContentId } from '../../../../shared/content/schema.ts';
import { AppError } from '../../../../shared/errors.ts';
import { newId } from '../../../../shared/ids.ts';
import {
  CO_ENGAGEMENT_DAYS,
  CO_ENGAGEMENT_EVIDENCE,
  contentShareOf,
  MIN_CONTENT_SHARE,
  similarItems,
} from '../../../../shared/recommend/similar.ts';
import type { AppBindings } from '../../app.ts';
import { readContent } from '../../content-read.ts';
import { OUTAGE_RETRY_AFTER_SECONDS } from '../../errors.ts';
import { BooleanParam, FILTER_PARAMS, limitParam, listParam } from '../../filters.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { RecommendedItemFields, showRanked } from '../../recommended.ts';
import { contentNotFound } from './get.ts';
import { ContentIdParamsSchema } from './schema.ts';

/** Ids `exclude` may name. */
export const MAX_EXCLUDED = 100;

export const SimilarQuerySchema = z.object({
  limit: limitParam('How many neighbours (1–50, default 10).'),
  locale: FILTER_PARAMS.locale.openapi({
    description: 'Only neighbours with a translation in this language; titles in it.',
    example: 'ar',
  }),
  category: FILTER_PARAMS.category,
  tags: FILTER_PARAMS.tags,
  exclude: listParam(ContentId, MAX_EXCLUDED)
    .optional()
    .openapi({
      description: `Items never to return (already shown, say): repeat or use commas; at most ${MAX_EXCLUDED}.`,
    }),
  explain: BooleanParam.default(false).openapi({ description: "Each neighbour's score parts." }),
});

const NeighbourSchema = z
  .object({
    ...RecommendedItemFields,
    score: z.number().openapi({ description: 'The blended score, 0–1.' }),
    explain: z
      .object({
        content: z.number().openapi({ description: 'Similarity of the texts (0–1).' }),
        co_engagement: z
          .number()
          .openapi({ description: "How much the item's readers also read it (0–1)." }),
        content_share: z.number().openapi({ description: 'The weight of `content`.' }),
      })
      .optional(),
  })
  .openapi('SimilarItem');

export const SimilarResponseSchema = z
  .object({
    item_id: z.string(),
    recomm_id: z.string().openapi({
      description:
        'Names this list: send it as `context.recomm_id` with `recommendation.clicked` events.',
      example: 'rec_01jd5x3k7yf0v9r2m4q6s8t1wz',
    }),
    readers: z
      .number()
      .int()
      .openapi({
        description: `Readers of the item in the last ${CO_ENGAGEMENT_DAYS} days that co-engagement drew on.`,
      }),
    items: z.array(NeighbourSchema),
    degraded_reasons: z.array(
      z.enum(['content_neighbours_unavailable', 'co_engagement_unavailable']),
    ),
  })
  .openapi('SimilarItems');

export const route = createRoute({
  method: 'get',
  path: '/v1/content/{id}/similar',
  tags: ['content'],
  summary: "An item's neighbours (content-based and co-engagement)",
  description:
    'Items like this one, from two sources blended: the nearest texts in the search index (an ' +
    'item has neighbours as soon as it is indexed) and what its readers also engaged with ' +
    `(views, clicks, shares… in the same sessions over ${CO_ENGAGEMENT_DAYS} days, recent ones ` +
    `weighing more). Content similarity weighs \`max(${MIN_CONTENT_SHARE}, ` +
    `${CO_ENGAGEMENT_EVIDENCE} / (${CO_ENGAGEMENT_EVIDENCE} + readers))\`: co-engagement takes ` +
    'over as readers accumulate. Only published items of your organisation, never the item ' +
    'itself; filter by `locale`, `category`, `tags`, `exclude`. A source that cannot be asked ' +
    'is named in `degraded_reasons` and the other answers. Needs `content:read`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:read')] as const,
  request: { params: ContentIdParamsSchema, query: SimilarQuerySchema },
  responses: {
    200: {
      description: 'The neighbours, best first.',
      content: { 'application/json': { schema: SimilarResponseSchema } },
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

export function registerContentSimilar<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    const query = c.req.valid('query');
    const principal = c.var.principal!;
    const { services } = c.var;
    const read = await readContent(services, principal.orgId, id);
    if (!read) throw contentNotFound();
    const result = await similarItems(
      services,
      read.snapshot,
      {
        locale: query.locale,
        categories: query.category,
        tags: query.tags,
        exclude: query.exclude,
      },
      query.limit,
      new Date(),
    );
    if (result.degraded.length === 2) {
      throw new AppError({
        code: 'SERVICE_UNAVAILABLE',
        message: 'Neither the search index nor Postgres could be asked for neighbours.',
        headers: { 'Retry-After': String(OUTAGE_RETRY_AFTER_SECONDS) },
      });
    }
    const contentShare = contentShareOf(result.readers);
    const items = await showRanked(
      services,
      principal.orgId,
      result.neighbours,
      query.locale,
      query.explain
        ? (n) => ({
            content: n.content,
            co_engagement: n.coEngagement,
            content_share: contentShare,
          })
        : null,
    );
    return c.json(
      SimilarResponseSchema.parse({
        item_id: id,
        recomm_id: newId('recommendation'),
        readers: result.readers,
        items,
        degraded_reasons: result.degraded,
      }),
      200,
    );
  });
}
