import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import {
  DEFAULT_RANKING,
  FusionMethod,
  RankingSettings,
  RankWeights,
} from '../../../../shared/search/ranking.ts';
import { SETTINGS_TTL_MS } from '../../../../shared/search/settings.ts';
import type { AppBindings } from '../../app.ts';
import { noneMatch } from '../../content-read.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { readSettingsSection, SETTINGS_ETAG_HEADER, settingsEtag } from '../../org-settings.ts';

/** Where the settings live in `organizations.settings`. */
export const SETTINGS_KEY = 'search';

/** How long other isolates may search with settings a write has replaced, in seconds. */
export const PROPAGATION_SECONDS = SETTINGS_TTL_MS / 1000;

// Copies made here: zod schemas built before `@hono/zod-openapi` extended zod lack `.openapi`.
const WeightsSchema = RankWeights.clone().openapi('SearchRankWeights', {
  description:
    'Weights of the re-rank, each 0 to 10, at least one above 0: the final score is the ' +
    'weighted mean of relevance (the fused score), popularity, freshness and personal ' +
    "(the reader's affinity for the item's category), so only their ratios matter.",
  example: DEFAULT_RANKING.weights,
});

const EFFECTIVE_FIELDS = {
  fusion: FusionMethod.clone().openapi({
    description:
      'How keyword and semantic candidates become one list in hybrid search: `rrf` (reciprocal ' +
      'rank fusion, needs no score calibration) or `weighted` (scores scaled to the best, mixed ' +
      'by `semantic_weight`).',
    example: DEFAULT_RANKING.fusion,
  }),
  semantic_weight: RankingSettings.shape.semantic_weight.clone().openapi({
    description: "`weighted` fusion only: the semantic side's share, 0 to 1.",
    example: DEFAULT_RANKING.semantic_weight,
  }),
  weights: WeightsSchema,
  category_weights: z.record(z.string(), WeightsSchema).openapi({
    description: 'Weights for the items of a category, by category id, replacing `weights` there.',
    example: {},
  }),
  freshness_half_life_days: RankingSettings.shape.freshness_half_life_days.clone().openapi({
    description: 'Days after publication at which freshness has halved (0.1 to 3650).',
    example: DEFAULT_RANKING.freshness_half_life_days,
  }),
  semantic_floor: RankingSettings.shape.semantic_floor.clone().openapi({
    description:
      "The semantic side's relevance floor, 0 to 1: a candidate's cosine similarity must reach " +
      "this share of the way from the side's weakest candidate (what unrelated text scores) to " +
      'its best. Applies once the side has 10 candidates; 0 turns it off.',
    example: DEFAULT_RANKING.semantic_floor,
  }),
  semantic_only_floor: RankingSettings.shape.semantic_only_floor.clone().openapi({
    description:
      'Hybrid search: the same share for semantic candidates that match no query term (the ' +
      'keyword side did not find them), 0 to 1; never below `semantic_floor`.',
    example: DEFAULT_RANKING.semantic_only_floor,
  }),
  semantic_min_similarity: RankingSettings.shape.semantic_min_similarity.clone().openapi({
    description:
      'The least cosine similarity a semantic candidate may have, -1 to 1: an absolute floor, ' +
      'which depends on the embedding model (the default suits the local development model; ' +
      "measure your model's scores for unrelated text before raising it).",
    example: DEFAULT_RANKING.semantic_min_similarity,
  }),
};

export const SearchSettingsSchema = z
  .object({
    ...EFFECTIVE_FIELDS,
    defaults: z.object(EFFECTIVE_FIELDS).openapi({
      description: 'What applies to every field the organisation has not set.',
    }),
    stored: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({
        description:
          'The fields the organisation has set, as stored by the last `PUT`; null when it has ' +
          'set none (the defaults apply).',
        example: { fusion: 'weighted', semantic_weight: 0.6 },
      }),
  })
  .openapi('SearchSettings', {
    description:
      "The organisation's effective ranking settings (what it has stored over the defaults), " +
      'the defaults, and what it has stored.',
  });
export type SearchSettingsView = z.infer<typeof SearchSettingsSchema>;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * The settings as the API shows them: stored over the defaults as search applies them (each
 * field set replaces the default's; stored settings that do not validate give the defaults, as
 * `rankingSettings` does), with the defaults and what is stored.
 */
export function settingsView(stored: unknown): SearchSettingsView {
  const storedObject = isPlainObject(stored) ? stored : null;
  const merged = RankingSettings.safeParse({ ...DEFAULT_RANKING, ...storedObject });
  const effective = merged.success ? merged.data : DEFAULT_RANKING;
  return SearchSettingsSchema.parse({
    ...effective,
    defaults: DEFAULT_RANKING,
    stored: storedObject,
  });
}

export const route = createRoute({
  method: 'get',
  path: '/v1/search/settings',
  tags: ['search'],
  summary: 'Get the search ranking settings',
  description:
    "The organisation's ranking settings as search applies them (each field it has stored " +
    'replaces the default), with `defaults` and `stored` (what it has set, or null). The ' +
    '`ETag` is a hash of the stored settings: send it as `If-Match` to change only this state; ' +
    '`If-None-Match` with it answers `304`. Needs `search`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('search')] as const,
  responses: {
    200: {
      description: 'The settings.',
      headers: SETTINGS_ETAG_HEADER,
      content: { 'application/json': { schema: SearchSettingsSchema } },
    },
    304: {
      description: 'Not modified: `If-None-Match` names the current ETag.',
      headers: SETTINGS_ETAG_HEADER,
    },
    ...problemResponses('UNAUTHORIZED', 'FORBIDDEN', 'RATE_LIMITED', ...COMMON_PROBLEMS),
  },
});

export function registerSearchSettingsGet<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const stored = await readSettingsSection(c.var.services.db, orgId, SETTINGS_KEY);
    const etag = await settingsEtag(stored);
    c.header('ETag', etag);
    if (noneMatch(c.req.header('If-None-Match'), etag)) return c.body(null, 304);
    return c.json(settingsView(stored), 200);
  });
}
