import { eq } from 'drizzle-orm';
import { organizations } from './db/schema/tenancy.ts';
import type { Services } from './services.ts';

type CacheServices = Pick<Services, 'logger'>;

/**
 * A value per organisation read from Postgres and kept in the isolate for `ttlMs`: ranking
 * settings, the recommendation blend, the running experiments. A read that fails answers
 * `fallback` (logged, not kept), so the request it serves never fails for want of it.
 *
 * A change calls `forget(orgId)`, so the isolate that made it answers with the new value at
 * once; other isolates keep their copy until it expires, so they pick the change up within
 * `ttlMs`. A read already under way when `forget` runs answers its own request but is not kept
 * (it may have seen the old value).
 */
export function orgCache<T, S extends CacheServices>(options: {
  /** Names the value in logs. */
  name: string;
  ttlMs: number;
  fallback: T;
  read(services: S, orgId: string): Promise<T>;
}) {
  const memory = new Map<string, { value: T; until: number }>();
  /** How many times each organisation's copy was forgotten: a read that began before keeps out. */
  const forgotten = new Map<string, number>();
  return {
    async get(services: S, orgId: string, now = Date.now()): Promise<T> {
      const cached = memory.get(orgId);
      if (cached && cached.until > now) return cached.value;
      const generation = forgotten.get(orgId) ?? 0;
      let value: T;
      try {
        value = await options.read(services, orgId);
      } catch (error) {
        services.logger.warn(`${options.name} unreadable; using defaults`, { orgId, error });
        return options.fallback;
      }
      if ((forgotten.get(orgId) ?? 0) === generation) {
        memory.set(orgId, { value, until: now + options.ttlMs });
      }
      return value;
    },
    forget(orgId: string): void {
      memory.delete(orgId);
      forgotten.set(orgId, (forgotten.get(orgId) ?? 0) + 1);
    },
  };
}

/**
 * The section `key` of the organisation's `settings` (`search`, `recommendations`…), read through
 * the `postgres` breaker; undefined when it has none (or there is no such organisation).
 */
export async function storedSection(
  services: Pick<Services, 'db' | 'guard'>,
  orgId: string,
  key: string,
): Promise<unknown> {
  const [row] = await services.guard('postgres', () =>
    services.db
      .select({ settings: organizations.settings })
      .from(organizations)
      .where(eq(organizations.id, orgId)),
  );
  return row?.settings[key];
}
