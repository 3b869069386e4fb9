/**
 * The recommendation blend as the API shows it (`GET/PUT /v1/recommendations/settings`): the
 * effective blend, the defaults and what the organisation has stored.
 */
import { z } from '@hono/zod-openapi';
import { type Blend, DEFAULT_BLEND } from '../../../../shared/recommend/recommend.ts';
import { BlendInput, blendOf } from '../../../../shared/recommend/settings.ts';

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

export const RecommendationSettingsSchema = z
  .object({
    ...BLEND_FIELDS,
    defaults: z.object(BLEND_FIELDS),
    stored: z.record(z.string(), z.unknown()).nullable().openapi({
      description: 'The fields the organisation has set (null: none; the defaults apply).',
    }),
  })
  .openapi('RecommendationSettings');

export const RecommendationSettingsInputSchema = BlendInput.clone().openapi(
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
export function settingsView(stored: unknown) {
  const effective: Blend = blendOf(DEFAULT_BLEND, stored) ?? DEFAULT_BLEND;
  return RecommendationSettingsSchema.parse({
    ...effective,
    defaults: DEFAULT_BLEND,
    stored: stored ?? null,
  });
}
