import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import type { Schema } from 'hono';
import { sha256Hex } from '../../../../shared/auth/refresh-tokens.ts';
import type { HttpDatabase } from '../../../../shared/db/client.ts';
import { organizations } from '../../../../shared/db/schema/tenancy.ts';
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

export const SETTINGS_ETAG_HEADER = z.object({
  ETag: z.string().openapi({
    description:
      'A hash of the stored settings; send it as `If-Match` to change only this state, or as ' +
      '`If-None-Match` to be told `304` while it holds.',
    example: '"5f0c3a9d8b2e4c1f7a6d9e0b3c2f1a4e"',
  }),
});

/** `organizations.settings.search` of the organisation; null when it has none (or no row). */
export async function readStoredSettings(db: HttpDatabase, orgId: string): Promise<unknown> {
  const [row] = await db
    .select({ settings: organizations.settings })
    .from(organizations)
    .where(eq(organizations.id, orgId))
    .limit(1);
  return storedOf(row?.settings);
}

/** The stored search settings within an organisation's `settings` (null: none). */
export function storedOf(settings: Record<string, unknown> | undefined): unknown {
  return settings?.[SETTINGS_KEY] ?? null;
}

/** JSON with object keys sorted at every level, so equal values always hash alike. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The strong ETag of stored settings: 128 bits of the SHA-256 of their canonical JSON. It names
 * the content, not a version, so returning to an earlier state brings its ETag back — a write
 * conditional on it is as safe then as before.
 */
export async function settingsEtag(stored: unknown): Promise<string> {
  return `"${(await sha256Hex(canonicalJson(stored))).slice(0, 32)}"`;
}

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
    const stored = await readStoredSettings(c.var.services.db, orgId);
    const etag = await settingsEtag(stored);
    c.header('ETag', etag);
    if (noneMatch(c.req.header('If-None-Match'), etag)) return c.body(null, 304);
    return c.json(settingsView(stored), 200);
  });
}
