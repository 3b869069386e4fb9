import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { eq, sql } from 'drizzle-orm';
import type { Schema } from 'hono';
import { organizations } from '../../../../shared/db/schema/tenancy.ts';
import { AppError } from '../../../../shared/errors.ts';
import { type Blend, DEFAULT_BLEND } from '../../../../shared/recommend/recommend.ts';
import {
  BLEND_SETTINGS_KEY,
  BLEND_TTL_MS,
  BlendInput,
  blendOf,
  forgetRecommendationBlend,
} from '../../../../shared/recommend/settings.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { noneMatch } from '../../content-read.ts';
import { ifMatchAllows, ifMatchHeader, preconditionFailed } from '../../if-match.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { SETTINGS_ETAG_HEADER, settingsEtag } from '../search/settings-get.ts';

const Weights = (fields: readonly string[]) =>
  z.object(Object.fromEntries(fields.map((f) => [f, z.number()])));

const BLEND_FIELDS = {
  other_signals: Weights(['session', 'category', 'trending', 'popularity', 'freshness']).openapi({
    description:
      'For a reader with a history: how the signals other than collaborative filtering share ' +
      'their weight (relative; scaled to sum to 1).',
  }),
  cold_start: Weights(['trending', 'popularity', 'freshness']).openapi({
    description: 'For a reader without one (relative; scaled to sum to 1).',
  }),
  co_reader_evidence: z.number().openapi({
    description: 'Co-readers at which collaborative filtering weighs as much as the rest.',
  }),
  min_other_share: z.number().openapi({
    description: 'The least share the other signals keep, however many co-readers.',
  }),
  freshness_half_life_days: z.number().openapi({
    description: 'Days after publication at which freshness has halved.',
  }),
  category_share: z.number().openapi({
    description: 'The most of a list one category may fill while others can (at least 2 items).',
  }),
};

const RecommendationSettingsSchema = z
  .object({
    ...BLEND_FIELDS,
    defaults: z.object(BLEND_FIELDS),
    stored: z.record(z.string(), z.unknown()).nullable().openapi({
      description: 'The fields the organisation has set (null: none; the defaults apply).',
    }),
  })
  .openapi('RecommendationSettings');

const RecommendationSettingsInputSchema = BlendInput.clone().openapi(
  'RecommendationSettingsInput',
  {
    description:
      'The blend to store. Every field is optional: one left out takes the default, and `{}` ' +
      'resets them all. A weight group (`other_signals`, `cold_start`) is given whole, each ' +
      'weight 0 to 10 and at least one above 0.',
    example: {
      other_signals: {
        session: 0.5,
        category: 0.2,
        trending: 0.1,
        popularity: 0.1,
        freshness: 0.1,
      },
      freshness_half_life_days: 5,
    },
  },
);

/** The blend as the API shows it: stored over the defaults, the defaults, and what is stored. */
function view(stored: unknown) {
  const effective: Blend = blendOf(DEFAULT_BLEND, stored) ?? DEFAULT_BLEND;
  return RecommendationSettingsSchema.parse({
    ...effective,
    defaults: DEFAULT_BLEND,
    stored: stored ?? null,
  });
}

async function readStored(db: AppBindings['Variables']['services']['db'], orgId: string) {
  const [row] = await db
    .select({ settings: organizations.settings })
    .from(organizations)
    .where(eq(organizations.id, orgId));
  return row?.settings[BLEND_SETTINGS_KEY] ?? null;
}

export const getRoute = createRoute({
  method: 'get',
  path: '/v1/recommendations/settings',
  tags: ['recommendations'],
  summary: 'Get the recommendation blend',
  description:
    'The blend recommendations use (what the organisation has stored over the defaults), with ' +
    '`defaults` and `stored`. The `ETag` hashes the stored fields: `If-Match` on `PUT`, ' +
    '`If-None-Match` for a `304`. Needs `content:read`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:read')] as const,
  responses: {
    200: {
      description: 'The blend.',
      headers: SETTINGS_ETAG_HEADER,
      content: { 'application/json': { schema: RecommendationSettingsSchema } },
    },
    304: { description: 'Not modified.', headers: SETTINGS_ETAG_HEADER },
    ...problemResponses('UNAUTHORIZED', 'FORBIDDEN', 'RATE_LIMITED', ...COMMON_PROBLEMS),
  },
});

export const putRoute = createRoute({
  method: 'put',
  path: '/v1/recommendations/settings',
  tags: ['recommendations'],
  summary: 'Replace the recommendation blend',
  description:
    'Stores the blend: fields left out take the defaults; `{}` resets them all. `If-Match` ' +
    'with the `ETag` of a read makes it conditional (`412` with `current_etag`). This instance ' +
    `recommends with it at once, every other within ${BLEND_TTL_MS / 1000} s. Audited as ` +
    '`recommendations.settings.update` with the stored blend before and after. Needs ' +
    '`settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('settings:manage')] as const,
  request: {
    headers: ifMatchHeader({
      description:
        'Write only if the stored blend is still at this `ETag` (from a read or a write), else ' +
        '`412` with `current_etag`. Without it the last writer wins.',
      example: '"5f0c3a9d8b2e4c1f7a6d9e0b3c2f1a4e"',
    }),
    body: {
      required: true,
      content: { 'application/json': { schema: RecommendationSettingsInputSchema } },
    },
  },
  responses: {
    200: {
      description: 'The blend as now stored and applied.',
      headers: SETTINGS_ETAG_HEADER,
      content: { 'application/json': { schema: RecommendationSettingsSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'PRECONDITION_FAILED',
      'UNSUPPORTED_MEDIA_TYPE',
      'RATE_LIMITED',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerRecommendationSettings<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app
    .openapi(getRoute, async (c) => {
      const stored = await readStored(c.var.services.db, c.var.principal!.orgId);
      const etag = await settingsEtag(stored);
      c.header('ETag', etag);
      if (noneMatch(c.req.header('If-None-Match'), etag)) return c.body(null, 304);
      return c.json(view(stored), 200);
    })
    .openapi(putRoute, async (c) => {
      const { orgId } = c.var.principal!;
      const body = c.req.valid('json');
      const ifMatch = c.req.valid('header')['if-match'];
      const next = Object.keys(body).length > 0 ? body : null;
      const { before, after } = await c.var.services.transaction(async (tx) => {
        const [current] = await tx
          .select({ settings: organizations.settings })
          .from(organizations)
          .where(eq(organizations.id, orgId))
          .for('update');
        if (!current) {
          throw new AppError({ code: 'NOT_FOUND', message: 'The organisation no longer exists.' });
        }
        const stored = current.settings[BLEND_SETTINGS_KEY] ?? null;
        const etag = await settingsEtag(stored);
        if (ifMatch !== undefined && !ifMatchAllows(ifMatch, etag)) {
          throw preconditionFailed(etag, 'recommendation settings');
        }
        const settings =
          next === null
            ? sql`${organizations.settings} - ${BLEND_SETTINGS_KEY}::text`
            : sql`${organizations.settings} || jsonb_build_object(${BLEND_SETTINGS_KEY}::text, ${JSON.stringify(next)}::jsonb)`;
        await tx.update(organizations).set({ settings }).where(eq(organizations.id, orgId));
        return { before: stored, after: next };
      });
      forgetRecommendationBlend(orgId);
      audit(c, {
        action: 'recommendations.settings.update',
        targetType: 'organization',
        targetId: orgId,
        data: { before, after },
      });
      return c.json(view(after), 200, { ETag: await settingsEtag(after) });
    });
}
