import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { organizations } from '../db/schema/tenancy.ts';
import { orgCache } from '../org-cache.ts';
import type { Services } from '../services.ts';

/** Where the AI settings live in `organizations.settings`. */
export const AI_SETTINGS_KEY = 'ai';

/** How long an isolate keeps an organisation's AI settings before reading them again. */
export const AI_SETTINGS_TTL_MS = 30_000;

/** The largest daily budget accepted, in US dollars (a typo guard, not a policy). */
export const MAX_DAILY_BUDGET_USD = 1_000_000;

/**
 * An organisation's AI settings (`organizations.settings.ai`): `daily_budget_usd`, the most its
 * model calls may cost in a UTC day (null: no limit; 0: models are never called, the extractive
 * engine answers everything), and `enrich_content_on_publish`, whether published content items
 * are enriched (`content.enrich`).
 */
export const AiSettings = z.object({
  daily_budget_usd: z
    .number({ error: 'must be a number or null' })
    .nonnegative('must be at least 0')
    .max(MAX_DAILY_BUDGET_USD, `must be at most ${MAX_DAILY_BUDGET_USD}`)
    .nullable(),
  enrich_content_on_publish: z.boolean({ error: 'must be a boolean' }),
});
export type AiSettings = z.infer<typeof AiSettings>;

export const DEFAULT_AI_SETTINGS: AiSettings = {
  daily_budget_usd: null,
  enrich_content_on_publish: false,
};

/** Stored settings over the defaults; stored settings that do not validate give the defaults. */
export function effectiveAiSettings(stored: unknown): AiSettings {
  const object = stored !== null && typeof stored === 'object' && !Array.isArray(stored);
  const parsed = AiSettings.safeParse({ ...DEFAULT_AI_SETTINGS, ...(object ? stored : {}) });
  return parsed.success ? parsed.data : DEFAULT_AI_SETTINGS;
}

const cache = orgCache<AiSettings, Pick<Services, 'db' | 'logger'>>({
  name: 'AI settings',
  ttlMs: AI_SETTINGS_TTL_MS,
  // No budget, so work goes on, and no content enrichment.
  fallback: DEFAULT_AI_SETTINGS,
  async read(services, orgId) {
    const [row] = await services.db
      .select({ settings: organizations.settings })
      .from(organizations)
      .where(eq(organizations.id, orgId));
    return effectiveAiSettings(row?.settings[AI_SETTINGS_KEY] ?? null);
  },
});

/**
 * The organisation's AI settings, kept in the isolate for {@link AI_SETTINGS_TTL_MS} (as search
 * keeps its ranking settings; `shared/org-cache.ts`). Postgres being unreachable gives the
 * defaults (logged, not kept): no budget, so work goes on, and no content enrichment.
 */
export function aiSettings(
  services: Pick<Services, 'db' | 'logger'>,
  orgId: string,
  now = Date.now(),
): Promise<AiSettings> {
  return cache.get(services, orgId, now);
}

/** Drops the isolate's copy of the organisation's AI settings: called after they change. */
export function forgetAiSettings(orgId: string): void {
  cache.forget(orgId);
}
