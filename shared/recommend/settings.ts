import { z } from 'zod';
import { orgCache, storedSection } from '../org-cache.ts';
import type { Services } from '../services.ts';
import { type Blend, DEFAULT_BLEND } from './recommend.ts';

/** Where the blend lives in `organizations.settings`. */
export const BLEND_SETTINGS_KEY = 'recommendations';

/** How long an isolate keeps an organisation's blend before reading it again. */
export const BLEND_TTL_MS = 30_000;

const Weight = z.number().min(0).max(10);
const SOME_WEIGHT = 'must have at least one weight above 0';
const someWeight = (weights: Record<string, number>) => Object.values(weights).some((w) => w > 0);

export const OtherSignalsInput = z
  .strictObject({
    session: Weight,
    category: Weight,
    trending: Weight,
    popularity: Weight,
    freshness: Weight,
  })
  .refine(someWeight, SOME_WEIGHT);

export const ColdStartInput = z
  .strictObject({ trending: Weight, popularity: Weight, freshness: Weight })
  .refine(someWeight, SOME_WEIGHT);

/**
 * A stored blend, or an experiment variant's: any field of {@link Blend}; a weight group is
 * given whole (its weights are relative: they are scaled to sum to 1 when used).
 */
export const BlendInput = z.strictObject({
  other_signals: OtherSignalsInput.optional(),
  cold_start: ColdStartInput.optional(),
  co_reader_evidence: z.number().int().min(1).max(100_000).optional(),
  min_other_share: z.number().min(0).max(1).optional(),
  freshness_half_life_days: z.number().min(0.1).max(3650).optional(),
  category_share: z.number().min(0.1).max(1).optional(),
});
export type BlendInput = z.infer<typeof BlendInput>;

/**
 * `overrides` over `base`: each field given replaces the base's (a weight group whole). Stored
 * settings that do not validate give `base` (the caller logs).
 */
export function blendOf(base: Blend, overrides: unknown): Blend | undefined {
  if (overrides === null || overrides === undefined) return base;
  const parsed = BlendInput.safeParse(overrides);
  if (!parsed.success) return undefined;
  const defined = Object.fromEntries(
    Object.entries(parsed.data).filter(([, value]) => value !== undefined),
  );
  return { ...base, ...defined } as Blend;
}

type BlendServices = Pick<Services, 'db' | 'guard' | 'logger'>;

const cache = orgCache<Blend, BlendServices>({
  name: 'recommendation settings',
  ttlMs: BLEND_TTL_MS,
  fallback: DEFAULT_BLEND,
  async read(services, orgId) {
    const blend = blendOf(DEFAULT_BLEND, await storedSection(services, orgId, BLEND_SETTINGS_KEY));
    if (blend) return blend;
    services.logger.warn('invalid recommendation settings; using defaults', { orgId });
    return DEFAULT_BLEND;
  },
});

/**
 * The organisation's blend: `organizations.settings.recommendations` over {@link DEFAULT_BLEND},
 * kept in the isolate for {@link BLEND_TTL_MS} (`shared/org-cache.ts`); the defaults when it
 * cannot be read.
 */
export function recommendationBlend(
  services: BlendServices,
  orgId: string,
  now = Date.now(),
): Promise<Blend> {
  return cache.get(services, orgId, now);
}

/** Drops the isolate's copy of the organisation's blend: called after it changes. */
export function forgetRecommendationBlend(orgId: string): void {
  cache.forget(orgId);
}
