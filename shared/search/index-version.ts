import type { Services } from '../services.ts';
import { indexVersionKey } from './keys.ts';

export { indexVersionKey } from './keys.ts';

type VersionServices = Pick<Services, 'redis' | 'guard' | 'logger'>;

/**
 * The organisation's search index version: a counter the indexer increments after every change
 * to the index, which search result cache keys include, so that any change makes every cached
 * result unreachable at once. 0 before the first change; undefined when Redis cannot say (the
 * caller must not cache then: it could not tell a stale entry from a fresh one).
 */
export async function readIndexVersion(
  services: VersionServices,
  orgId: string,
): Promise<number | undefined> {
  try {
    const raw = await services.guard('redis', () =>
      services.redis.get<number | string>(indexVersionKey(orgId)),
    );
    const version = raw === null ? 0 : Number(raw);
    return Number.isSafeInteger(version) && version >= 0 ? version : undefined;
  } catch (error) {
    services.logger.warn('search index version unreadable; results not cached', { orgId, error });
    return undefined;
  }
}

/**
 * Increments the index version of each organisation in `orgIds` (once each), after their index
 * changed. A failure is logged, not thrown: the index itself changed, and cached results then
 * expire on their own time (`searchResults` is fresh for 15 minutes).
 */
export async function bumpIndexVersions(
  services: VersionServices,
  orgIds: Iterable<string>,
): Promise<void> {
  await Promise.all(
    [...new Set(orgIds)].map(async (orgId) => {
      try {
        await services.guard('redis', () => services.redis.incr(indexVersionKey(orgId)));
      } catch (error) {
        services.logger.warn('search index version not bumped', { orgId, error });
      }
    }),
  );
}
