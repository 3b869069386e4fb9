import type { Redis } from '@upstash/redis/cloudflare';
import { isEntry, type Store } from './interface.ts';

/**
 * The Upstash Redis tier (the client `services.redis` gives): `SET key <entry JSON> PX <ttl>`, so
 * Redis drops an entry when it is no longer servable even stale. Redis is the one strongly
 * consistent tier, and the one the write path fills first.
 */
export function redisStore(redis: Pick<Redis, 'get' | 'set' | 'del'>): Store {
  return {
    async get(key) {
      let raw = await redis.get<unknown>(key);
      // The client parses JSON itself unless `automaticDeserialization` is off.
      if (typeof raw === 'string') raw = JSON.parse(raw);
      return isEntry(raw) ? raw : undefined;
    },
    async set(key, entry, ttlMs) {
      await redis.set(key, JSON.stringify(entry), { px: Math.max(1, Math.ceil(ttlMs)) });
    },
    async remove(key) {
      await redis.del(key);
    },
  };
}
