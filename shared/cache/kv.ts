import { isEntry, type Store } from './interface.ts';

/** KV refuses an `expirationTtl` under 60 s. */
export const KV_MIN_TTL_SECONDS = 60;
/** How long a data centre may answer a KV read from its own cache (`cacheTtl`). */
export const KV_CACHE_TTL_SECONDS = 30;

/**
 * The Workers KV tier: each entry is stored as its JSON (`{ value, freshUntil, staleUntil }`)
 * with `expirationTtl` = the time to `staleUntil`, at least KV's 60 s minimum. Reads use
 * `cacheTtl` (default 30 s), so a data centre can answer from its own cache for that long after
 * a write or delete elsewhere: that, plus KV's global propagation (up to about 60 s), is why
 * entries that must change at once are version-keyed rather than overwritten.
 */
export function kvStore(
  kv: Pick<KVNamespace, 'get' | 'put' | 'delete'>,
  { cacheTtl = KV_CACHE_TTL_SECONDS }: { cacheTtl?: number } = {},
): Store {
  return {
    async get(key) {
      const raw: unknown = await kv.get(key, { type: 'json', cacheTtl });
      return isEntry(raw) ? raw : undefined;
    },
    async set(key, entry, ttlMs) {
      await kv.put(key, JSON.stringify(entry), {
        expirationTtl: Math.max(KV_MIN_TTL_SECONDS, Math.ceil(ttlMs / 1_000)),
      });
    },
    async remove(key) {
      await kv.delete(key);
    },
  };
}
