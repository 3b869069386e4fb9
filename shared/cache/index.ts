import type { Services } from '../services.ts';
import { kvStore } from './kv.ts';
import { isolateMemoryStore } from './memory.ts';
import { redisStore } from './redis.ts';
import {
  type CacheNamespace,
  type CacheOptions,
  type CacheStores,
  type NamespacePolicy,
  tieredNamespace,
} from './tiered.ts';

export type { Entry, Store, Tier, TierName } from './interface.ts';
export { kvStore } from './kv.ts';
export { createMemoryStore, isolateMemoryStore } from './memory.ts';
export { redisStore } from './redis.ts';
export {
  type CacheKey,
  type CacheNamespace,
  type CacheOptions,
  type CacheResult,
  type CacheStores,
  cacheKey,
  type Loader,
  MEMORY_TTL_MS,
  type NamespacePolicy,
  NEGATIVE_TTL_MS,
  type WriteResult,
} from './tiered.ts';

export type Cache<V extends Record<string, unknown>> = {
  readonly [N in keyof V]: CacheNamespace<V[N]>;
};

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Sift's namespaces and their lifetimes. `fresh` is seed 000's `CACHE_TTL_CONFIG`; `stale` is how
 * long a value may still be served (marked stale) while it is refreshed, which is also how long
 * reads survive a Postgres outage. Every namespace keeps an isolate copy for `MEMORY_TTL_MS`
 * (5 s) only, since no other isolate can invalidate it.
 *
 * | namespace        | seed key         | fresh  | stale | keyed by                       |
 * |------------------|------------------|--------|-------|--------------------------------|
 * | contentDetails   | content_details  | 1 h    | 24 h  | content id + version           |
 * | categoryList     | category_list    | 24 h   | 7 d   | locale                         |
 * | featuredContent  | featured_content | 30 min | 24 h  | locale                         |
 * | searchResults    | search_results   | 15 min | 1 h   | hash of the normalised query   |
 * | userPreferences  | user_preferences | 1 h    | 24 h  | user id (memory + Redis only)  |
 * | embeddings       | ml_embeddings    | 7 d    | 30 d  | content id + version           |
 * | recommendations  | recommendations  | 30 min | 24 h  | reader, query and the reader's |
 * |                  |                  |        |       | recent items (memory + Redis)  |
 * | synonyms         | —                | 1 h    | 24 h  | locale + synonyms version      |
 * | trendingSignal   | —                | 1 min  | 10 min | window, locale, categories   |
 *
 * Version-keyed entries never change, so their long times cost no correctness: `synonyms` is keyed
 * by the organisation's synonyms version (a Redis counter every write bumps). Preferences skip
 * KV: a user expects their own change at once, and KV cannot be invalidated in time; so do
 * recommendations, one entry per reader and query (a KV write each would cost more than it saves).
 */
export const CACHE_POLICIES = {
  contentDetails: { fresh: HOUR, stale: DAY },
  categoryList: { fresh: DAY, stale: 7 * DAY },
  featuredContent: { fresh: 30 * MINUTE, stale: DAY },
  searchResults: { fresh: 15 * MINUTE, stale: HOUR },
  userPreferences: { fresh: HOUR, stale: DAY, tiers: ['memory', 'redis'] },
  embeddings: { fresh: 7 * DAY, stale: 30 * DAY },
  recommendations: { fresh: 30 * MINUTE, stale: DAY, tiers: ['memory', 'redis'] },
  trendingSignal: { fresh: MINUTE, stale: 10 * MINUTE, tiers: ['memory', 'redis'] },
  synonyms: { fresh: HOUR, stale: DAY },
} as const satisfies Record<string, NamespacePolicy>;

/**
 * Typed, tiered, stale-while-revalidate caches, one per namespace (after Unkey's cache):
 * `createCache<{ contentDetails: Content }>(stores, CACHE_POLICIES, { logger, waitUntil })`
 * gives `cache.contentDetails.swr(key, loader)`. Keys are `{ orgId, id, version? }`.
 *
 * A read walks memory → KV → Redis and stops at the first entry not past `staleUntil`:
 * - a hit in a lower tier is copied to the tiers above it after the response (`waitUntil`);
 * - a stale hit is answered at once (`stale: true`) and the loader refreshes it in the
 *   background; if the loader fails the stale entry stays and keeps being served;
 * - a miss calls the loader, once per key per isolate however many calls wait (and a stale
 *   revalidation joins the same call), then fills every tier;
 * - a loader answer of `undefined` is cached as a negative entry for `negative` (10 s);
 * - a tier that throws is logged and skipped: Redis down falls through to the loader, the
 *   loader down is survived by any tier still holding the entry; only when nothing is cached
 *   does the loader's error reach the caller.
 *
 * `remove` reaches this isolate's memory and the shared tiers; other isolates drop their copy
 * within `memoryTtl` and KV data centres within `cacheTtl` plus propagation (about 60 s). Data
 * that must change at once uses version keys instead. Cached values are shared between calls
 * and requests: never mutate one.
 */
export function createCache<V extends Record<string, unknown>>(
  stores: CacheStores,
  namespaces: { readonly [N in keyof V]: NamespacePolicy },
  options: CacheOptions,
): Cache<V> {
  const cache: Record<string, CacheNamespace<unknown>> = {};
  for (const [name, policy] of Object.entries<NamespacePolicy>(namespaces)) {
    cache[name] = tieredNamespace(name, policy, stores, options);
  }
  return cache as Cache<V>;
}

/** The three tiers over a request's services: the isolate's memory, `CACHE` (KV), Redis. */
export function cacheStores(services: Pick<Services, 'kv' | 'redis'>): CacheStores {
  return {
    memory: isolateMemoryStore,
    kv: kvStore(services.kv),
    redis: redisStore(services.redis),
  };
}
