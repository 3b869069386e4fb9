import { z } from '@hono/zod-openapi';
import {
  AiSettings,
  DEFAULT_AI_SETTINGS,
  MAX_DAILY_BUDGET_USD,
} from '../../../../shared/enrichment/settings.ts';
import { DEFAULT_USAGE_DAYS, MAX_USAGE_DAYS } from '../../../../shared/enrichment/usage.ts';

// Copies made here: zod schemas built before `@hono/zod-openapi` extended zod lack `.openapi`.
const FIELDS = {
  daily_budget_usd: AiSettings.shape.daily_budget_usd.clone().openapi({
    description:
      'The most the organisation’s model calls may cost in a UTC day, in US dollars (Sift’s ' +
      `estimate from its price table), 0 to ${MAX_DAILY_BUDGET_USD}; null for no limit. Once a ` +
      'call would go over it, the extractive engine answers (`fallback_reason: ' +
      "'over_budget'`) until the day ends, and `ai.budget_exhausted` is sent once.",
    example: 5,
  }),
  enrich_content_on_publish: AiSettings.shape.enrich_content_on_publish.clone().openapi({
    description:
      'Whether a content item is enriched (summaries, tags, category…) when it is published and ' +
      'whenever its published text changes; the result is its `enrichment`.',
    example: true,
  }),
};

export const AiSettingsSchema = z
  .object({
    ...FIELDS,
    defaults: z.object(FIELDS).openapi({
      description: 'What applies to every field the organisation has not set.',
      example: DEFAULT_AI_SETTINGS,
    }),
    stored: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({
        description: 'The fields the organisation has set, as stored; null when it has set none.',
        example: { daily_budget_usd: 5 },
      }),
  })
  .openapi('AiSettings', {
    description: "The organisation's AI settings as applied (what it stored over the defaults).",
  });

/** A write: either field, each with the rules of {@link AiSettings}; others are refused. */
export const AiSettingsInputSchema = z
  .strictObject({
    daily_budget_usd: FIELDS.daily_budget_usd.optional(),
    enrich_content_on_publish: FIELDS.enrich_content_on_publish.optional(),
  })
  .openapi('AiSettingsInput', {
    description:
      'The AI settings to store. Every field is optional: one left out takes the default (not ' +
      'what was stored before), and `{}` resets them all. Unknown fields are refused.',
    example: { daily_budget_usd: 5, enrich_content_on_publish: true },
  });

const Day = z.iso.date({ error: 'must be a date (YYYY-MM-DD)' });

export const AiUsageQuery = z.object({
  from: Day.optional().openapi({
    description: `The first UTC day, included. Default: ${DEFAULT_USAGE_DAYS} days ending at \`to\`.`,
    example: '2026-11-06',
  }),
  to: Day.optional().openapi({
    description: `The last UTC day, included. Default: today. At most ${MAX_USAGE_DAYS} days after \`from\`.`,
    example: '2026-12-05',
  }),
});

const Totals = z.object({
  calls: z.number().int().openapi({ description: 'Every call, cache hits included.' }),
  cache_hits: z.number().int().openapi({ description: 'Answered from the exact result cache.' }),
  semantic_hits: z
    .number()
    .int()
    .openapi({ description: 'Answered from a semantic cache (questions).' }),
  cache_hit_rate: z
    .number()
    .min(0)
    .max(1)
    .nullable()
    .openapi({ description: 'Hits (exact and semantic) over calls; null without calls.' }),
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  cost_usd: z.number().openapi({ description: 'Estimated, in US dollars.' }),
});

export const AiUsageSchema = z
  .object({
    from: z.iso.date(),
    to: z.iso.date(),
    days: z
      .array(
        z.object({
          day: z.iso.date(),
          kind: z.enum(['enrich', 'ask']).openapi({
            description: '`enrich`: documents and content enriched; `ask`: questions answered.',
          }),
          model: z.string().openapi({
            description: 'The model that answered (`sift/extractive` for the engine).',
            example: '@cf/meta/llama-3.3-70b-instruct-fp8-fast',
          }),
          engine: z.enum(['model', 'extractive']),
          calls: z.number().int(),
          cache_hits: z.number().int(),
          semantic_hits: z.number().int(),
          input_tokens: z.number().int(),
          output_tokens: z.number().int(),
          cost_usd: z.number(),
        }),
      )
      .openapi({ description: 'One row per day, kind, model and engine used, oldest first.' }),
    totals: Totals.extend({
      by_kind: z.object({ enrich: Totals, ask: Totals }),
    }).openapi({ description: 'Over the window, and per kind of call.' }),
  })
  .openapi('AiUsage', {
    description:
      "The organisation's AI calls per UTC day: calls, cache hits, tokens and estimated cost.",
  });
