import type { Context } from 'hono';
import { setMetric } from 'hono/timing';
import { CACHE_POLICIES, cacheStores, createCache, type Tier } from '../../shared/cache/index.ts';
import { parseAcceptLanguage } from '../../shared/content/locales.ts';
import type { ContentResource } from '../../shared/content/schema.ts';
import {
  loadSnapshots,
  readVersionPointer,
  writeVersionPointer,
} from '../../shared/content/store.ts';
import { contentEtag, contentResource } from '../../shared/content/view.ts';
import type { ContentSnapshot } from '../../shared/db/schema/content.ts';
import { AppError } from '../../shared/errors.ts';
import type { Services } from '../../shared/services.ts';
import type { AppBindings } from './app.ts';

/** Seconds a client should wait before retrying a read that failed because Postgres is down. */
export const READ_RETRY_AFTER_SECONDS = 5;

/** Where a read was answered from (`Server-Timing: cache;desc="…"`). */
export type ReadTier = Exclude<Tier, 'origin'> | 'postgres';

export type ContentRead = {
  snapshot: ContentSnapshot;
  tier: ReadTier;
  /** Served from the last-known copy because the current version could not be learnt. */
  stale: boolean;
};

type Snapshots = { contentDetails: ContentSnapshot };

/** Postgres had another version than the pointer named: serve it, cache nothing under the key. */
class VersionMismatch extends Error {
  readonly snapshot: ContentSnapshot | undefined;
  constructor(snapshot: ContentSnapshot | undefined) {
    super('content version pointer and Postgres disagree');
    this.snapshot = snapshot;
  }
}

function contentCache(services: Services) {
  return createCache<Snapshots>(
    cacheStores(services),
    { contentDetails: CACHE_POLICIES.contentDetails },
    { logger: services.logger, waitUntil: (p) => services.waitUntil(p) },
  );
}

/**
 * Item `id` of `orgId` through the read path: the version pointer in Redis names the current
 * version; with it, `contentDetails` (memory → KV → Redis, stale-while-revalidate) by
 * `{ orgId, id, version }`, else Postgres, after which the pointer (only if still absent), the
 * versioned entry and the last-known copy (`{ orgId, id }`, no version) are written after the
 * response. When Postgres is down the last-known copy answers, marked `stale`; with none, a
 * 503 with `Retry-After`. Undefined: no such item in the organisation (or deleted).
 */
export async function readContent(
  services: Services,
  orgId: string,
  id: string,
): Promise<ContentRead | undefined> {
  // A delete is a version too: the cache tiers hold it, and it means "gone".
  const read = await readAnyVersion(services, orgId, id);
  return read?.snapshot.deleted_at === null ? read : undefined;
}

async function readAnyVersion(
  services: Services,
  orgId: string,
  id: string,
): Promise<ContentRead | undefined> {
  const cache = contentCache(services);
  const load = async () =>
    (await services.guard('postgres', () => loadSnapshots(services.db, orgId, [id]))).get(id);
  const remember = (snapshot: ContentSnapshot) => rememberSnapshot(services, cache, snapshot);
  const version = await readVersionPointer(services, orgId, id);
  try {
    if (version !== undefined) {
      try {
        const result = await cache.contentDetails.swr({ orgId, id, version }, async () => {
          const snapshot = await load();
          if (snapshot !== undefined && snapshot.version !== version) {
            throw new VersionMismatch(snapshot);
          }
          if (snapshot) services.waitUntil(cache.contentDetails.set({ orgId, id }, snapshot));
          return snapshot;
        });
        if (result.value === undefined) return undefined;
        const tier = result.tier === 'origin' ? 'postgres' : result.tier;
        return { snapshot: result.value, tier, stale: false };
      } catch (error) {
        if (!(error instanceof VersionMismatch)) throw error;
        services.logger.warn('content version pointer disagrees with Postgres', {
          orgId,
          id,
          pointer: version,
          postgres: error.snapshot?.version,
        });
        return error.snapshot && { snapshot: error.snapshot, tier: 'postgres', stale: false };
      }
    }
    const snapshot = await load();
    if (snapshot === undefined) return undefined;
    remember(snapshot);
    return { snapshot, tier: 'postgres', stale: false };
  } catch (error) {
    services.logger.warn('content read: Postgres unavailable; trying the last-known copy', {
      orgId,
      id,
      error,
    });
    const last = await cache.contentDetails.get({ orgId, id });
    if (last?.value !== undefined) {
      const tier = last.tier === 'origin' ? 'postgres' : last.tier;
      return { snapshot: last.value, tier, stale: true };
    }
    throw new AppError({
      code: 'SERVICE_UNAVAILABLE',
      message: 'The content store is unavailable and no copy of this item is cached.',
      headers: { 'Retry-After': String(READ_RETRY_AFTER_SECONDS) },
      cause: error,
    });
  }
}

/**
 * After a read from Postgres, for the next readers: the version pointer (only if still absent:
 * a write may have moved it on), the versioned entry and the last-known copy, after the
 * response.
 */
function rememberSnapshot(
  services: Services,
  cache: ReturnType<typeof contentCache>,
  snapshot: ContentSnapshot,
) {
  const { org_id: orgId, id, version } = snapshot;
  services.waitUntil(writeVersionPointer(services, orgId, id, version, { ifAbsent: true }));
  services.waitUntil(cache.contentDetails.set({ orgId, id, version }, snapshot));
  services.waitUntil(cache.contentDetails.set({ orgId, id }, snapshot));
}

/**
 * Several items of `orgId` at once (a page of search hits), each through the cache tiers as
 * {@link readContent} reads one, except that the items no tier holds at their current version
 * are loaded from Postgres in one query. Items that do not exist in the organisation, or are
 * deleted, are absent from `reads`. When Postgres is down, their last-known copies answer
 * (`stale`); the ids of those with none are in `unreadable` (whether they exist is unknown).
 */
export async function readContents(
  services: Services,
  orgId: string,
  ids: readonly string[],
): Promise<{ reads: Map<string, ContentRead>; unreadable: Set<string> }> {
  const unreadable = new Set<string>();
  const cache = contentCache(services);
  const reads = new Map<string, ContentRead>();
  const pointers = await Promise.all(ids.map((id) => readVersionPointer(services, orgId, id)));
  const cached = await Promise.all(
    ids.map((id, i) => {
      const version = pointers[i];
      return version === undefined ? undefined : cache.contentDetails.get({ orgId, id, version });
    }),
  );
  const missing: string[] = [];
  ids.forEach((id, i) => {
    const hit = cached[i];
    if (hit?.value === undefined) missing.push(id);
    else reads.set(id, { snapshot: hit.value, tier: tierOf(hit.tier), stale: false });
  });
  if (missing.length > 0) {
    try {
      const loaded = await services.guard('postgres', () =>
        loadSnapshots(services.db, orgId, missing),
      );
      for (const [id, snapshot] of loaded) {
        rememberSnapshot(services, cache, snapshot);
        reads.set(id, { snapshot, tier: 'postgres', stale: false });
      }
    } catch (error) {
      services.logger.warn('content reads: Postgres unavailable; using last-known copies', {
        orgId,
        error,
      });
      const last = await Promise.all(missing.map((id) => cache.contentDetails.get({ orgId, id })));
      missing.forEach((id, i) => {
        const copy = last[i];
        if (copy?.value !== undefined) {
          reads.set(id, { snapshot: copy.value, tier: tierOf(copy.tier), stale: true });
        } else {
          unreadable.add(id);
        }
      });
    }
  }
  for (const [id, read] of reads) if (read.snapshot.deleted_at !== null) reads.delete(id);
  return { reads, unreadable };
}

const tierOf = (tier: Tier): ReadTier => (tier === 'origin' ? 'postgres' : tier);

/** Whether `If-None-Match` names `etag` (weak comparison, RFC 9110 §13.1.2), or is `*`. */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header
    .split(',')
    .map((t) => t.trim())
    .some((t) => t === '*' || (t.startsWith('W/') ? t.slice(2) : t) === etag);
}

/**
 * The response for a read: the resource in the reader's locale (`preferred`, else
 * `Accept-Language`), with `ETag`, `Content-Language`, `Vary`, `Server-Timing` and, for a
 * last-known copy, `Sift-Stale: true`; 304 without a body when `If-None-Match` matches.
 */
export function contentResponse(
  c: Context<AppBindings>,
  read: ContentRead,
  preferred: string | undefined,
  /** What else the body carries that can change without the version (`e<n>`: its enrichment). */
  etagSuffix?: string,
): { status: 200; resource: ContentResource } | { status: 304 } {
  const locales = preferred ? [preferred] : parseAcceptLanguage(c.req.header('Accept-Language'));
  const { resource } = contentResource(read.snapshot, { locales });
  const base = contentEtag(resource.id, resource.version, resource.locale);
  const etag = etagSuffix ? `${base.slice(0, -1)}.${etagSuffix}"` : base;
  setMetric(c, 'cache', read.tier);
  c.header('ETag', etag);
  c.header('Vary', 'Accept-Language');
  const language = resource.locale ?? resource.available_locales.join(', ');
  if (language) c.header('Content-Language', language);
  if (read.stale) c.header('Sift-Stale', 'true');
  if (noneMatch(c.req.header('If-None-Match'), etag)) return { status: 304 };
  return { status: 200, resource };
}
