import { orgCache, storedSection } from '../org-cache.ts';
import type { Services } from '../services.ts';
import { DEFAULT_RANKING, RankingSettings } from './ranking.ts';

/** How long an isolate keeps an organisation's ranking settings before reading them again. */
export const SETTINGS_TTL_MS = 30_000;

type SettingsServices = Pick<Services, 'db' | 'guard' | 'logger'>;

const cache = orgCache<RankingSettings, SettingsServices>({
  name: 'search settings',
  ttlMs: SETTINGS_TTL_MS,
  fallback: DEFAULT_RANKING,
  async read(services, orgId) {
    const stored = await storedSection(services, orgId, 'search');
    if (stored === undefined) return DEFAULT_RANKING;
    const parsed = RankingSettings.safeParse({ ...DEFAULT_RANKING, ...(stored as object) });
    if (parsed.success) return parsed.data;
    services.logger.warn('invalid search settings; using defaults', { orgId });
    return DEFAULT_RANKING;
  },
});

/**
 * The organisation's ranking settings: `organizations.settings.search` over
 * {@link DEFAULT_RANKING} (each field it sets replaces the default's), kept in the isolate for
 * {@link SETTINGS_TTL_MS}. Settings that do not validate, or Postgres being unreachable, give
 * the defaults (logged), so a search never fails for want of them.
 *
 * A change (`PUT /v1/search/settings`, an experiment's promotion) calls
 * {@link forgetRankingSettings}, so the isolate that made it searches with the new settings at
 * once; other isolates pick the change up within {@link SETTINGS_TTL_MS}.
 */
export function rankingSettings(
  services: SettingsServices,
  orgId: string,
  now = Date.now(),
): Promise<RankingSettings> {
  return cache.get(services, orgId, now);
}

/**
 * Drops the isolate's copy of the organisation's ranking settings, so that its next search reads
 * them from Postgres again: called after they change. Other isolates are not reached: their
 * copies expire within {@link SETTINGS_TTL_MS}.
 */
export function forgetRankingSettings(orgId: string): void {
  cache.forget(orgId);
}
