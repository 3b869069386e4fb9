import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context, Schema } from 'hono';
import { setMetric, wrapTime } from 'hono/timing';
import { sha256Hex } from '../../../../shared/auth/refresh-tokens.ts';
import { CACHE_POLICIES, cacheStores, createCache } from '../../../../shared/cache/index.ts';
import { ContentId } from '../../../../shared/content/schema.ts';
import type { ContentSnapshot } from '../../../../shared/db/schema/content.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { Assignment } from '../../../../shared/experiments/assign.ts';
import { assignment } from '../../../../shared/experiments/definition.ts';
import { recordExposure } from '../../../../shared/experiments/exposure.ts';
import { newId } from '../../../../shared/ids.ts';
import {
  HISTORY_DAYS,
  type HistoryItem,
  identitiesOf,
  type Reader,
  recentItems,
} from '../../../../shared/recommend/reader.ts';
import {
  type Blend,
  CATEGORY_SHARE,
  CO_READER_EVIDENCE,
  COLD_START_WEIGHTS,
  MIN_OTHER_SHARE,
  OTHER_SIGNALS,
  type Recommendation,
  recommend,
  SESSION_ITEMS,
} from '../../../../shared/recommend/recommend.ts';
import { blendOf, recommendationBlend } from '../../../../shared/recommend/settings.ts';
import type { Services } from '../../../../shared/services.ts';
import type { AppBindings } from '../../app.ts';
import { readContents } from '../../content-read.ts';
import { OUTAGE_RETRY_AFTER_SECONDS } from '../../errors.ts';
import { BooleanParam, FILTER_PARAMS, limitParam, listParam } from '../../filters.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { RecommendedItemFields, showRanked } from '../../recommended.ts';
import { ClientId } from '../events/schema.ts';
import { registerRecommendationSettingsGet } from './settings-get.ts';
import { registerRecommendationSettingsPut } from './settings-put.ts';

/** Ids `exclude` may name. */
export const MAX_EXCLUDED = 100;

const DEGRADED_REASONS = [
  'session_events_unavailable',
  'history_unavailable',
  'collaborative_unavailable',
  'content_neighbours_unavailable',
  'trending_unavailable',
  'newest_unavailable',
  'popularity_unavailable',
] as const;

export const RecommendationsQuerySchema = z.object({
  session_id: ClientId(
    'The visit to recommend for (the `session_id` its events carry): its latest events count at once.',
  ).optional(),
  anonymous_id: ClientId(
    'The signed-out reader to recommend for (the `anonymous_id` their events carry).',
  ).optional(),
  limit: limitParam('How many items (1–50, default 10).'),
  locale: FILTER_PARAMS.locale.openapi({
    description:
      "Only items with a translation in this language, titles in it; a new reader gets what is trending among this language's readers.",
    example: 'ar',
  }),
  category: FILTER_PARAMS.category,
  tags: FILTER_PARAMS.tags,
  exclude: listParam(ContentId, MAX_EXCLUDED)
    .optional()
    .openapi({
      description: `Items never to return (already on the page, say): repeat or use commas; at most ${MAX_EXCLUDED}.`,
    }),
  explain: BooleanParam.default(false).openapi({ description: "Each item's score parts." }),
});

const part = (description: string) => z.number().openapi({ description });

const RecommendationSchema = z
  .object({
    ...RecommendedItemFields,
    score: z.number().openapi({ description: 'The blended score, 0–1: the sum of its parts.' }),
    explain: z
      .object({
        collaborative: part('What readers who share your history also engaged with.'),
        session: part("Likeness of its text to your latest items' (the session's thread)."),
        category: part('Your affinity for its category.'),
        trending: part('How far it is rising above its own baseline.'),
        popularity: part('Its engagement over the last 30 days (log-scaled).'),
        freshness: part('How recently it was published.'),
      })
      .optional()
      .openapi({ description: 'The score parts, each already weighted.' }),
  })
  .openapi('Recommendation');

export const RecommendationsResponseSchema = z
  .object({
    recomm_id: z.string().openapi({
      description:
        'Names this list: send it as `context.recomm_id` with `recommendation.clicked` events.',
    }),
    strategy: z.enum(['personalized', 'trending']).openapi({
      description:
        '`personalized` for a reader with a history; `trending` (cold start) for one without.',
    }),
    history: z
      .number()
      .int()
      .openapi({
        description: `Items the reader engaged with in the last ${HISTORY_DAYS} days (none is recommended).`,
      }),
    co_readers: z
      .number()
      .int()
      .openapi({ description: 'Other readers collaborative filtering drew on.' }),
    items: z.array(RecommendationSchema),
    degraded_reasons: z.array(z.enum(DEGRADED_REASONS)),
    experiment: z
      .object({
        key: z.string().openapi({ example: 'more-collaborative' }),
        variant: z.string().openapi({ example: 'treatment' }),
      })
      .optional()
      .openapi({
        description:
          'The running recommendations experiment and the variant whose blend made this list; ' +
          'absent when the reader is in none.',
      }),
  })
  .openapi('Recommendations');

/** What the cache keeps of an answer: the ranking, shown again (and re-checked) on each hit. */
type CachedRecommendations = {
  recomm_id: string;
  strategy: 'personalized' | 'trending';
  history: number;
  co_readers: number;
  items: Recommendation[];
};

const listed = (weights: Record<string, number>) =>
  Object.entries(weights)
    .filter(([, weight]) => weight > 0)
    .map(([name, weight]) => `${name} ${weight}`)
    .join(', ');

export const route = createRoute({
  method: 'get',
  path: '/v1/recommendations',
  tags: ['recommendations'],
  summary: 'Recommendations for a reader (signed-in user, session or anonymous visitor)',
  description:
    'Items for one reader: the signed-in user, and/or the `session_id` / `anonymous_id` their ' +
    'events carry. With a history, a blend of item-to-item collaborative filtering (what ' +
    `readers who share the reader's items also engaged with), the text neighbours of their last ` +
    `${SESSION_ITEMS} items (a view a second ago moves the answer), their category affinity, ` +
    'trending, popularity and freshness. Collaborative filtering weighs ' +
    `\`1 − max(${MIN_OTHER_SHARE}, ${CO_READER_EVIDENCE} / (${CO_READER_EVIDENCE} + co_readers))\`: ` +
    'it takes over as the readers it draws on grow; the other signals share the rest ' +
    `(by default ${listed(OTHER_SIGNALS)}). Without a history (cold start): what is trending, ` +
    `in \`locale\`'s language when given, popular and fresh (by default ` +
    `${listed(COLD_START_WEIGHTS)}). The weights, the co-reader rule, freshness and the ` +
    "category share are the organisation's blend (`/v1/recommendations/settings`); a reader in a " +
    "running recommendations experiment gets their variant's over it (`experiment` says which). " +
    'Items the reader engaged with are left out; at most ' +
    `${CATEGORY_SHARE * 100}% of the list (and at least 2) from one category while others can ` +
    'fill it. Only published items of your organisation. Cached 30 minutes per reader and ' +
    "query; the reader's own new events retire it at once. A source that cannot be asked is " +
    'named in `degraded_reasons`. Needs `content:read`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:read')] as const,
  request: { query: RecommendationsQuerySchema },
  responses: {
    200: {
      description: 'The recommendations, best first.',
      content: { 'application/json': { schema: RecommendationsResponseSchema } },
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

export function registerRecommendations<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerRecommendationSettingsPut(registerRecommendationSettingsGet(app)).openapi(
    route,
    async (c) => {
      const started = performance.now();
      const query = c.req.valid('query');
      const principal = c.var.principal!;
      const { services } = c.var;
      const orgId = principal.orgId;
      const reader: Reader = {
        userId: principal.kind === 'user' ? principal.userId : undefined,
        sessionId: query.session_id,
        anonymousId: query.anonymous_id,
      };
      // The reader a running experiment assigns: the user, else the visitor, else the visit.
      // Read beside the reader's recent items (`recommendations` awaits it); it never rejects.
      const blending = Promise.all([
        recommendationBlend(services, orgId),
        assignment(
          services,
          orgId,
          'recommendations',
          reader.userId ?? reader.anonymousId ?? reader.sessionId,
        ),
      ]).then(([stored, assigned]) => ({
        assigned,
        blend: assigned ? variantBlend(stored, assigned, services.logger) : stored,
      }));
      try {
        const body = await recommendations(c, { query, reader, blending, now: new Date() });
        const { assigned } = await blending;
        if (assigned) {
          recordExposure(services, orgId, assigned, {
            subjectId: body.recomm_id,
            outcome: body.degraded_reasons.length > 0 ? 'degraded' : 'ok',
            latencyMs: performance.now() - started,
            resultCount: null,
          });
        }
        return c.json(
          RecommendationsResponseSchema.parse({
            ...body,
            ...(assigned
              ? { experiment: { key: assigned.experimentKey, variant: assigned.variant } }
              : {}),
          }),
          200,
        );
      } catch (error) {
        const { assigned } = await blending;
        if (assigned && !(error instanceof AppError && error.status < 500)) {
          recordExposure(services, orgId, assigned, {
            subjectId: newId('recommendation'),
            outcome: 'error',
            latencyMs: performance.now() - started,
            resultCount: null,
          });
        }
        throw error;
      }
    },
  );
}

/**
 * The organisation's blend with a variant's on top (each field it sets replaces the stored
 * one); the stored blend, logged, should the variant's no longer validate.
 */
function variantBlend(stored: Blend, assigned: Assignment, logger: Services['logger']): Blend {
  const blend = blendOf(stored, assigned.settings);
  if (blend) return blend;
  logger.warn('experiment variant blend invalid; recommending with the stored one', {
    experiment_id: assigned.experimentId,
    variant: assigned.variant,
  });
  return stored;
}

/** The list for `reader` under the blend `blending` settles on: from the cache, else made and cached. */
async function recommendations(
  c: Context<AppBindings>,
  {
    query,
    reader,
    blending,
    now,
  }: {
    query: z.infer<typeof RecommendationsQuerySchema>;
    reader: Reader;
    blending: Promise<{ blend: Blend }>;
    now: Date;
  },
) {
  const principal = c.var.principal!;
  const { services } = c.var;
  const orgId = principal.orgId;
  const filters = {
    locale: query.locale,
    categories: query.category,
    tags: query.tags,
    exclude: query.exclude,
  };
  // The reader's recent items key the cache: their next event makes a new key.
  const [recent, { blend }] = await Promise.all([
    recentItems(services, orgId, reader).catch((error: unknown): HistoryItem[] | null => {
      services.logger.warn('recommendations: recent items unavailable', { error });
      return null;
    }),
    blending,
  ]);
  const cache = createCache<{ recommendations: CachedRecommendations }>(
    cacheStores(services),
    { recommendations: CACHE_POLICIES.recommendations },
    { logger: services.logger, waitUntil: (p) => services.waitUntil(p) },
  );
  const key =
    recent === null
      ? undefined
      : {
          orgId,
          id: await sha256Hex(
            JSON.stringify([
              identitiesOf(reader),
              filters,
              query.limit,
              recent.map((item) => [item.contentId, item.lastAt]),
              // A list made under another blend (a variant, a changed setting) is not this one.
              blend,
            ]),
          ),
        };
  // A stale answer is not served: past 30 minutes the list is made again.
  const cached = key ? await cache.recommendations.get(key) : undefined;
  let answer = cached && !cached.stale ? cached.value : undefined;
  let degraded: string[] = [];
  setMetric(c, 'cache', answer ? 'hit' : 'miss');
  if (!answer) {
    const snapshots = async (ids: readonly string[]) => {
      const { reads } = await readContents(services, orgId, ids);
      return new Map(
        [...reads].map(([id, read]): [string, ContentSnapshot] => [id, read.snapshot]),
      );
    };
    const result = await recommend(
      { ...services, snapshots, time: (name, work) => wrapTime(c, name, work) },
      orgId,
      reader,
      filters,
      query.limit,
      now,
      { recent },
      blend,
    );
    if (result.items.length === 0 && result.exhausted) {
      throw new AppError({
        code: 'SERVICE_UNAVAILABLE',
        message: `No recommendation could be made: ${result.degraded.join(', ')}.`,
        headers: { 'Retry-After': String(OUTAGE_RETRY_AFTER_SECONDS) },
      });
    }
    answer = {
      recomm_id: newId('recommendation'),
      strategy: result.strategy,
      history: result.history,
      co_readers: result.coReaders,
      items: result.items,
    };
    degraded = result.degraded;
    if (key && degraded.length === 0) {
      services.waitUntil(cache.recommendations.set(key, answer));
    }
  }
  const items = await showRanked(
    services,
    orgId,
    answer.items,
    query.locale,
    query.explain ? (item) => item.parts : null,
  );
  return {
    recomm_id: answer.recomm_id,
    strategy: answer.strategy,
    history: answer.history,
    co_readers: answer.co_readers,
    items,
    degraded_reasons: degraded,
  };
}
