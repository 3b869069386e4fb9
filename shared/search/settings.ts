import { eq } from 'drizzle-orm';
import { organizations } from '../db/schema/tenancy.ts';
import type { Services } from '../services.ts';
import { DEFAULT_RANKING, RankingSettings } from './ranking.ts';

/** How long an isolate keeps an organisation's ranking settings before reading them again. */
export const SETTINGS_TTL_MS = 30_000;

const memory = new Map<string, { settings: RankingSettings; until: number }>();
/** How many times each organisation's copy was forgotten: a read that began before keeps out. */
const forgotten = new Map<string, number>();

/**
 * The organisation's ranking settings: `organizations.settings.search` over
 * {@link DEFAULT_RANKING} (each field it sets replaces the default's), kept in the isolate for
 * {@link SETTINGS_TTL_MS}. Settings that do not validate, or Postgres being unreachable, give
 * the defaults (logged), so a search never fails for want of them.
 *
 * A change (`PUT /v1/search/settings`) calls {@link forgetRankingSettings}, so the isolate that
 * made it searches with the new settings at once; other isolates keep their copy until it
 * expires, so they pick the change up within {@link SETTINGS_TTL_MS}.
 */
export async function rankingSettings(
  services: Pick<Services, 'db' | 'guard' | 'logger'>,
  orgId: string,
  now = Date.now(),
): Promise<RankingSettings> {
  const cached = memory.get(orgId);
  if (cached && cached.until > now) return cached.settings;
  const generation = forgotten.get(orgId) ?? 0;
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
  if ((forgotten.get(orgId) ?? 0) === generation) {
    memory.set(orgId, { settings, until: now + SETTINGS_TTL_MS });
  }
  return settings;
}

/**
 * Drops the isolate's copy of the organisation's ranking settings, so that its next search reads
 * them from Postgres again: called after they change. A read already under way when this runs
 * answers its own search but is not kept (it may have seen the old value). Other isolates are not
 * reached: their copies expire within {@link SETTINGS_TTL_MS}.
 */
export function forgetRankingSettings(orgId: string): void {
  memory.delete(orgId);
  forgotten.set(orgId, (forgotten.get(orgId) ?? 0) + 1);
}
