import { type Enrichment, EnrichmentSchema, type EnrichmentTask } from '../ai/schema.ts';
import type { Services } from '../services.ts';

/** How long a model's enrichment is kept in Redis (seed 004: 24 hours). */
export const AI_CACHE_TTL_SECONDS = 86_400;

/** What decides a model's answer, so what its cached copy is found by. */
export type EnrichmentCacheInput = {
  /** Whose request: each organisation has its own copies (see {@link enrichmentCacheKey}). */
  orgId: string;
  /** The model asked (the provider's `model`: `workers-ai:@cf/…`). */
  model: string;
  promptVersion: string;
  text: string;
  /** Sorted and without repeats by the key; the same set in any order finds the same copy. */
  tasks: readonly EnrichmentTask[];
  locale: string | null;
  categories: readonly string[];
  /** The UTC day relative due dates are resolved against (`by Friday`). */
  referenceDay: string;
};

const hex = (bytes: ArrayBuffer) =>
  [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');

/**
 * The Redis key of an enrichment: `ai:enrich:<org>:<model>:<prompt version>:<tasks>:<hash>`,
 * where the hash is the SHA-256 of the text with everything else the prompt carries (language,
 * categories, reference day). Model, prompt version and task set stay readable in the key, so a
 * new prompt version or model never finds the old answers (and an operator can drop them by
 * pattern). Per organisation, as every cache key is: a shared copy would tell one organisation
 * (by `cached: true`, or by its speed) that another had enriched the very same text.
 */
export async function enrichmentCacheKey(input: EnrichmentCacheInput): Promise<string> {
  const tasks = [...new Set(input.tasks)].sort().join(',');
  const digest = await crypto.subtle.digest(
    'SHA-256',
    new TextEncoder().encode(
      JSON.stringify([input.text, input.locale, input.categories, input.referenceDay]),
    ),
  );
  return `ai:enrich:${input.orgId}:${input.model}:${input.promptVersion}:${tasks}:${hex(digest)}`;
}

type CacheServices = Pick<Services, 'redis' | 'guard' | 'logger'>;

/**
 * The enrichment cached under `key`, or null: not there, not valid any more (a schema change),
 * or Redis unreachable (a miss, logged: the model answers instead).
 */
export async function cachedEnrichment(
  services: CacheServices,
  key: string,
): Promise<Enrichment | null> {
  try {
    const value = await services.guard('redis', () => services.redis.get<unknown>(key));
    if (value === null) return null;
    const parsed = EnrichmentSchema.safeParse(value);
    return parsed.success ? parsed.data : null;
  } catch (error) {
    services.logger.warn('AI cache unreadable; asking the model', { error });
    return null;
  }
}

/** Keeps `enrichment` under `key` for {@link AI_CACHE_TTL_SECONDS}; a failure is only logged. */
export async function cacheEnrichment(
  services: CacheServices,
  key: string,
  enrichment: Enrichment,
): Promise<void> {
  const { cached: _, ...stored } = enrichment;
  try {
    await services.guard('redis', () =>
      services.redis.set(key, stored, { ex: AI_CACHE_TTL_SECONDS }),
    );
  } catch (error) {
    services.logger.warn('AI result not cached', { error });
  }
}
