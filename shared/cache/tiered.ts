import type { Logger } from '../logger.ts';
import { type Entry, type Store, TIERS, type Tier, type TierName } from './interface.ts';

/**
 * What a cached value is filed under. The organisation is part of every key, so one tenant can
 * never be served another's entry, and forgetting it is a type error. `version` makes the key
 * immutable: a reader that learnt the current version (from Redis or Postgres) asks for exactly
 * that one, so a write is visible at once without waiting for any tier to be invalidated.
 */
export type CacheKey = { readonly orgId: string; readonly id: string; readonly version?: number };

/**
 * How long a namespace's entries live, in milliseconds.
 * - `fresh`: served as is (KV and Redis keep the entry's freshness as written).
 * - `stale`: until then, served marked stale and refreshed in the background; also how long
 *   reads survive an origin (Postgres) outage. At least `fresh`.
 * - `memoryTtl`: how long an isolate keeps its own copy, default 5 000. No other isolate can
 *   invalidate it, so this bounds how long it may lag a change made elsewhere.
 * - `negative`: how long "the origin has nothing" is remembered, default 10 000 (never stale).
 * - `tiers`: the shared tiers used, default all three.
 */
export type NamespacePolicy = {
  readonly fresh: number;
  readonly stale: number;
  readonly memoryTtl?: number;
  readonly negative?: number;
  readonly tiers?: readonly TierName[];
};

export const MEMORY_TTL_MS = 5_000;
export const NEGATIVE_TTL_MS = 10_000;

/**
 * A read's answer: the value (`undefined` when the origin has none), the tier that answered
 * (for `Server-Timing`) and whether it was past its fresh time (mark the response stale).
 */
export type CacheResult<T> = { value: T | undefined; tier: Tier; stale: boolean };

/** Which tiers a write or delete could not reach (it never throws for a tier). */
export type WriteResult = { failed: TierName[] };

/** Reads the value from the origin; `undefined` means it does not exist. */
export type Loader<T> = (key: CacheKey) => Promise<T | undefined>;

export type CacheNamespace<T> = {
  /**
   * Stale-while-revalidate read through the tiers, then `loader`. See `createCache`.
   * Throws only what `loader` throws, and only when nothing servable is cached.
   */
  swr(key: CacheKey, loader: Loader<T>): Promise<CacheResult<T>>;
  /** Reads the tiers only: `undefined` on a miss, `{ value: undefined }` for a negative entry. */
  get(key: CacheKey): Promise<CacheResult<T> | undefined>;
  /** Writes `value` as fresh to every tier (or those in `tiers`), waiting for each. */
  set(key: CacheKey, value: T, options?: { tiers?: readonly TierName[] }): Promise<WriteResult>;
  /** Deletes the key from every tier this isolate can reach (see `createCache` on others). */
  remove(key: CacheKey): Promise<WriteResult>;
};

export type CacheStores = { readonly [N in TierName]?: Store };

export type CacheOptions = {
  readonly logger: Pick<Logger, 'debug' | 'warn'>;
  /** Keeps write-backs and revalidations alive after the response (`ctx.waitUntil`). */
  readonly waitUntil: (promise: Promise<unknown>) => void;
  /** The clock freshness is judged by, epoch milliseconds. Default `Date.now`. */
  readonly now?: () => number;
};

/**
 * Origin loads in flight in this isolate, by full key: concurrent misses and revalidations of one
 * key share a single loader call (module scope, so it spans the requests an isolate serves).
 */
const inflight = new Map<string, Promise<unknown>>();

/** The full key of `key` in `namespace`: `cache:v1:<namespace>:<org>:<id>[:v<version>]`. */
export function cacheKey(namespace: string, { orgId, id, version }: CacheKey): string {
  if (typeof orgId !== 'string' || orgId === '' || typeof id !== 'string' || id === '') {
    throw new TypeError(`cache key in ${namespace} needs a non-empty orgId and id`);
  }
  let key = `cache:v1:${namespace}:${encodeURIComponent(orgId)}:${encodeURIComponent(id)}`;
  if (version !== undefined) {
    if (!Number.isSafeInteger(version) || version < 0) {
      throw new TypeError(`cache key version must be a non-negative integer, got ${version}`);
    }
    key += `:v${version}`;
  }
  return key;
}

type TierRef = { name: TierName; store: Store };

/** One namespace's view of the tiers (the `createCache` doc comment gives the semantics). */
export function tieredNamespace<T>(
  name: string,
  policy: NamespacePolicy,
  stores: CacheStores,
  { logger, waitUntil, now = Date.now }: CacheOptions,
): CacheNamespace<T> {
  const memoryTtl = policy.memoryTtl ?? MEMORY_TTL_MS;
  const negative = policy.negative ?? NEGATIVE_TTL_MS;
  if (!(policy.fresh > 0 && policy.stale >= policy.fresh && memoryTtl > 0 && negative > 0)) {
    throw new RangeError(`cache namespace ${name}: need 0 < fresh <= stale and positive times`);
  }
  const allowed = policy.tiers ?? TIERS;
  const tiers: TierRef[] = [];
  for (const tier of TIERS) {
    const store = stores[tier];
    if (store !== undefined && allowed.includes(tier)) tiers.push({ name: tier, store });
  }

  async function lookup(key: string): Promise<{ index: number; entry: Entry } | undefined> {
    for (const [index, { name: tier, store }] of tiers.entries()) {
      try {
        const entry = await store.get(key);
        if (entry !== undefined && now() < entry.staleUntil) return { index, entry };
      } catch (error) {
        logger.warn('cache tier unavailable; reading the next one', {
          namespace: name,
          tier,
          error,
        });
      }
    }
    return undefined;
  }

  /** Writes `entry` to one tier; the memory copy lives at most `memoryTtl`. */
  function write({ name: tier, store }: TierRef, key: string, entry: Entry): Promise<void> {
    const at = now();
    const copy =
      tier === 'memory'
        ? { ...entry, staleUntil: Math.min(entry.staleUntil, at + memoryTtl) }
        : entry;
    const ttl = copy.staleUntil - at;
    return ttl > 0 ? store.set(key, copy, ttl) : Promise.resolve();
  }

  /** Writes `entry` to the first `upTo` tiers after the response; failures are only logged. */
  function fill(key: string, entry: Entry, upTo: number): void {
    for (const tier of tiers.slice(0, upTo)) {
      waitUntil(
        write(tier, key, entry).catch((error: unknown) => {
          logger.debug('cache write-back failed', { namespace: name, tier: tier.name, error });
        }),
      );
    }
  }

  function entryFor(value: T | undefined): Entry<T> {
    const at = now();
    return value === undefined
      ? { freshUntil: at + negative, staleUntil: at + negative }
      : { value, freshUntil: at + policy.fresh, staleUntil: at + policy.stale };
  }

  /** Calls the loader once per key per isolate, however many callers wait, and fills the tiers. */
  function load(key: string, cacheKeyValue: CacheKey, loader: Loader<T>): Promise<T | undefined> {
    const running = inflight.get(key);
    if (running !== undefined) return running as Promise<T | undefined>;
    const flight = (async () => {
      const value = await loader(cacheKeyValue);
      fill(key, entryFor(value), tiers.length);
      return value;
    })();
    inflight.set(key, flight);
    const done = () => {
      if (inflight.get(key) === flight) inflight.delete(key);
    };
    // Other requests may be waiting on this load: it must finish even if this caller goes away.
    waitUntil(flight.then(done, done));
    return flight;
  }

  /** Runs `op` on each tier, waiting for all; the ones that threw are logged and returned. */
  async function everyTier(
    selected: TierRef[],
    op: string,
    run: (tier: TierRef) => Promise<void>,
  ): Promise<WriteResult> {
    const results = await Promise.allSettled(selected.map(run));
    const failed: TierName[] = [];
    for (const [i, result] of results.entries()) {
      const tier = selected[i]!.name;
      if (result.status === 'fulfilled') continue;
      failed.push(tier);
      logger.warn(`cache ${op} failed`, { namespace: name, tier, error: result.reason });
    }
    return { failed };
  }

  return {
    async swr(key, loader) {
      const full = cacheKey(name, key);
      const hit = await lookup(full);
      if (hit !== undefined) {
        fill(full, hit.entry, hit.index);
        const stale = now() >= hit.entry.freshUntil;
        if (stale) {
          waitUntil(
            load(full, key, loader).catch((error: unknown) => {
              logger.warn('cache revalidation failed; serving stale', { namespace: name, error });
            }),
          );
        }
        return { value: hit.entry.value as T | undefined, tier: tiers[hit.index]!.name, stale };
      }
      // A load that finished while this call was reading the slower tiers has filled memory.
      const top = tiers[0];
      if (top?.name === 'memory' && !inflight.has(full)) {
        const late = await top.store.get(full).catch(() => undefined);
        if (late !== undefined && now() < Math.min(late.freshUntil, late.staleUntil)) {
          return { value: late.value as T | undefined, tier: 'memory', stale: false };
        }
      }
      return { value: await load(full, key, loader), tier: 'origin', stale: false };
    },

    async get(key) {
      const full = cacheKey(name, key);
      const hit = await lookup(full);
      if (hit === undefined) return undefined;
      fill(full, hit.entry, hit.index);
      return {
        value: hit.entry.value as T | undefined,
        tier: tiers[hit.index]!.name,
        stale: now() >= hit.entry.freshUntil,
      };
    },

    async set(key, value, options = {}) {
      const full = cacheKey(name, key);
      const entry = entryFor(value);
      const selected = tiers.filter(({ name: tier }) => options.tiers?.includes(tier) ?? true);
      return everyTier(selected, 'write', (tier) => write(tier, full, entry));
    },

    async remove(key) {
      const full = cacheKey(name, key);
      // Later callers must not join a load that began before the delete.
      inflight.delete(full);
      return everyTier(tiers, 'delete', ({ store }) => store.remove(full));
    },
  };
}
