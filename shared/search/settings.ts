import { eq } from 'drizzle-orm';
import { organizations } from '../db/schema/tenancy.ts';
import type { Services } from '../services.ts';
import { DEFAULT_RANKING, RankingSettings } from './ranking.ts';

/** How long an isolate keeps an organisation's ranking settings before reading them again. */
export const SETTINGS_TTL_MS = 30_000;

const memory = new Map<string, { settings: RankingSettings; until: number }>();

/**
 * The organisation's ranking settings: `organizations.settings.search` over
 * {@link DEFAULT_RANKING} (each field it sets replaces the default's), kept in the isolate for
 * {@link SETTINGS_TTL_MS}. Settings that do not validate, or Postgres being unreachable, give
 * the defaults (logged), so a search never fails for want of them.
 */
export async function rankingSettings(
  services: Pick<Services, 'db' | 'guard' | 'logger'>,
  orgId: string,
  now = Date.now(),
): Promise<RankingSettings> {
  const cached = memory.get(orgId);
  if (cached && cached.until > now) return cached.settings;
  let settings = DEFAULT_RANKING;
  try {
    const [row] = await services.guard('postgres', () =>
      services.db
        .select({ settings: organizations.settings })
        .from(organizations)
        .where(eq(organizations.id, orgId)),
    );
    const stored = row?.settings.search;
    if (stored !== undefined) {
      const parsed = RankingSettings.safeParse({ ...DEFAULT_RANKING, ...(stored as object) });
      if (parsed.success) settings = parsed.data;
      else services.logger.warn('invalid search settings; using defaults', { orgId });
    }
  } catch (error) {
    services.logger.warn('search settings unreadable; using defaults', { orgId, error });
    return settings;
  }
  memory.set(orgId, { settings, until: now + SETTINGS_TTL_MS });
  return settings;
}
