import { env } from 'cloudflare:workers';
import { Redis } from '@upstash/redis/cloudflare';
import { describe, expect, it, vi } from 'vitest';
import {
  type CacheKey,
  type CacheStores,
  cacheKey,
  createCache,
  createMemoryStore,
  kvStore,
  type NamespacePolicy,
  redisStore,
  type Store,
} from '../../../shared/cache/index.ts';
import { validateEnv } from '../../../shared/env.ts';
import { createLogger } from '../../../shared/logger.ts';
import { DEAD_URL } from '../helpers.ts';

type Article = { title: string; version: number };
type Values = { articles: Article };

const FRESH = 60_000;
const STALE = 600_000;
const POLICIES = { articles: { fresh: FRESH, stale: STALE } } satisfies Record<
  keyof Values,
  NamespacePolicy
>;
/** Fresh for less than the memory copy lives, so a stale entry can still be in memory. */
const SHORT_FRESH = { articles: { fresh: 2_000, stale: STALE } };

function validatedEnv() {
  const validated = validateEnv(env);
  if (!validated.ok) throw new Error(`test env invalid: ${JSON.stringify(validated.problems)}`);
  return validated.env;
}

/** A Redis client built as `shared/services.ts` builds it, optionally pointed elsewhere. */
function redisClient(url?: string): Redis {
  const settings = validatedEnv();
  return new Redis({
    url: url ?? settings.UPSTASH_REDIS_REST_URL,
    token: settings.UPSTASH_REDIS_REST_TOKEN,
    retry: { retries: 0 },
  });
}

const liveRedis = redisClient();
const kv = kvStore(env.CACHE);
const redis = redisStore(liveRedis);

/**
 * One "isolate": its own memory tier (unless given one) over the shared KV and Redis, a clock the
 * test moves, a `waitUntil` the test can drain, and the log lines it wrote.
 */
function isolate(
  options: {
    memory?: Store;
    redis?: Store;
    clock?: { now: number };
    policies?: { articles: NamespacePolicy };
  } = {},
) {
  const clock = options.clock ?? { now: Date.now() };
  const pending: Promise<unknown>[] = [];
  const logs: Record<string, unknown>[] = [];
  const memory = options.memory ?? createMemoryStore();
  const stores: CacheStores = { memory, kv, redis: options.redis ?? redis };
  const cache = createCache<Values>(stores, options.policies ?? POLICIES, {
    logger: createLogger({ level: 'debug', sink: (line) => logs.push(JSON.parse(line)) }),
    waitUntil: (promise) => pending.push(promise),
    now: () => clock.now,
  });
  return {
    cache,
    memory,
    clock,
    logs,
    /** Runs the work queued after "the response" (write-backs, revalidations). */
    async settle() {
      while (pending.length > 0) await Promise.allSettled(pending.splice(0));
    },
  };
}

let sequence = 0;
function uniqueKey(overrides: Partial<CacheKey> = {}): CacheKey {
  sequence += 1;
  const id = `${crypto.randomUUID()}-${sequence}`;
  return { orgId: `org_${id}`, id: `cnt_${id}`, ...overrides };
}

function loaderOf(value: Article | undefined, delayMs = 0) {
  return vi.fn(async (_key: CacheKey) => {
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    return value;
  });
}

const v1: Article = { title: 'مرحبا', version: 1 };
const v2: Article = { title: 'Hello', version: 2 };

describe('createCache swr', () => {
  it('loads a miss from the origin, then answers from memory', async () => {
    const { cache, settle } = isolate();
    const key = uniqueKey();
    const loader = loaderOf(v1);

    expect(await cache.articles.swr(key, loader)).toEqual({
      value: v1,
      tier: 'origin',
      stale: false,
    });
    await settle();
    expect(await cache.articles.swr(key, loader)).toEqual({
      value: v1,
      tier: 'memory',
      stale: false,
    });
    expect(loader).toHaveBeenCalledTimes(1);
    expect(loader).toHaveBeenCalledWith(key);
  });

  it('answers from KV when memory is cold and copies the entry back to memory', async () => {
    const first = isolate();
    const key = uniqueKey();
    await first.cache.articles.swr(key, loaderOf(v1));
    await first.settle();

    const second = isolate();
    const loader = loaderOf(v2);
    expect(await second.cache.articles.swr(key, loader)).toEqual({
      value: v1,
      tier: 'kv',
      stale: false,
    });
    await second.settle();
    expect(await second.memory.get(cacheKey('articles', key))).toMatchObject({ value: v1 });
    expect((await second.cache.articles.swr(key, loader)).tier).toBe('memory');
    expect(loader).not.toHaveBeenCalled();
  });

  it('answers from Redis when memory and KV are cold and copies the entry back to both', async () => {
    const first = isolate();
    const key = uniqueKey();
    const full = cacheKey('articles', key);
    await first.cache.articles.swr(key, loaderOf(v1));
    await first.settle();
    await env.CACHE.delete(full);

    const second = isolate();
    const loader = loaderOf(v2);
    expect(await second.cache.articles.swr(key, loader)).toEqual({
      value: v1,
      tier: 'redis',
      stale: false,
    });
    await second.settle();
    expect(await second.memory.get(full)).toMatchObject({ value: v1 });
    expect(await kv.get(full)).toMatchObject({ value: v1 });
    expect(loader).not.toHaveBeenCalled();
  });

  it('keeps a memory copy only for memoryTtl, then reads the shared tiers again', async () => {
    const clock = { now: Date.now() };
    const { cache, settle } = isolate({ clock });
    const key = uniqueKey();
    await cache.articles.swr(key, loaderOf(v1));
    await settle();

    clock.now += 4_000;
    expect((await cache.articles.swr(key, loaderOf(v2))).tier).toBe('memory');
    clock.now += 2_000;
    const later = await cache.articles.swr(key, loaderOf(v2));
    expect(later).toEqual({ value: v1, tier: 'kv', stale: false });
  });

  it('serves a stale entry at once and revalidates it in the background, once', async () => {
    const clock = { now: Date.now() };
    const { cache, settle } = isolate({ clock, policies: SHORT_FRESH });
    const key = uniqueKey();
    await cache.articles.swr(key, loaderOf(v1));
    await settle();

    clock.now += SHORT_FRESH.articles.fresh + 1_000;
    const loader = loaderOf(v2, 20);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => cache.articles.swr(key, loader)),
    );
    for (const answer of answers)
      expect(answer).toEqual({ value: v1, tier: 'memory', stale: true });
    await settle();
    expect(loader).toHaveBeenCalledTimes(1);

    expect(await cache.articles.swr(key, loader)).toEqual({
      value: v2,
      tier: 'memory',
      stale: false,
    });
    expect(loader).toHaveBeenCalledTimes(1);
  });

  it('calls the loader once for ten concurrent misses of one key', async () => {
    const { cache, settle } = isolate();
    const key = uniqueKey();
    const loader = loaderOf(v1, 50);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => cache.articles.swr(key, loader)),
    );
    await settle();
    expect(loader).toHaveBeenCalledTimes(1);
    for (const answer of answers) expect(answer.value).toEqual(v1);
  });

  it('remembers that the origin has nothing for the negative time, then asks again', async () => {
    const clock = { now: Date.now() };
    const { cache, settle } = isolate({ clock });
    const key = uniqueKey();
    const missing = loaderOf(undefined);

    expect(await cache.articles.swr(key, missing)).toEqual({
      value: undefined,
      tier: 'origin',
      stale: false,
    });
    await settle();
    expect(await cache.articles.swr(key, missing)).toEqual({
      value: undefined,
      tier: 'memory',
      stale: false,
    });
    clock.now += 9_000;
    expect((await cache.articles.swr(key, missing)).value).toBeUndefined();
    expect(missing).toHaveBeenCalledTimes(1);

    clock.now += 2_000;
    const found = loaderOf(v1);
    expect(await cache.articles.swr(key, found)).toEqual({
      value: v1,
      tier: 'origin',
      stale: false,
    });
    expect(found).toHaveBeenCalledTimes(1);
  });

  it('falls through to the loader when Redis is down, and reports the tier it could not write', async () => {
    const { cache, settle, logs } = isolate({ redis: redisStore(redisClient(DEAD_URL)) });
    const key = uniqueKey();
    const loader = loaderOf(v1);

    expect(await cache.articles.swr(key, loader)).toEqual({
      value: v1,
      tier: 'origin',
      stale: false,
    });
    await settle();
    expect(loader).toHaveBeenCalledTimes(1);
    const readFailures = logs.filter((line) => line.level === 'warn' && line.tier === 'redis');
    expect(readFailures).toHaveLength(1);
    expect(readFailures[0]).toMatchObject({ namespace: 'articles' });

    expect(await cache.articles.set(key, v2)).toEqual({ failed: ['redis'] });
    expect((await cache.articles.swr(key, loader)).value).toEqual(v2);
  });

  it('serves the stale entry when the loader fails', async () => {
    const clock = { now: Date.now() };
    const { cache, settle, logs } = isolate({ clock, policies: SHORT_FRESH });
    const key = uniqueKey();
    await cache.articles.swr(key, loaderOf(v1));
    await settle();

    clock.now += SHORT_FRESH.articles.fresh + 1_000;
    const down = vi.fn(async () => {
      throw new Error('postgres is down');
    });
    expect(await cache.articles.swr(key, down)).toEqual({ value: v1, tier: 'memory', stale: true });
    await settle();
    expect(down).toHaveBeenCalledTimes(1);
    expect(logs).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'cache revalidation failed; serving stale' }),
    );

    // Another isolate, memory cold, still answers from the shared tiers.
    const other = isolate({ clock, policies: SHORT_FRESH });
    expect(await other.cache.articles.swr(key, down)).toEqual({
      value: v1,
      tier: 'kv',
      stale: true,
    });
    await other.settle();
  });

  it('throws the loader error when nothing is cached', async () => {
    const { cache } = isolate();
    const error = new Error('postgres is down');
    await expect(
      cache.articles.swr(uniqueKey(), async () => {
        throw error;
      }),
    ).rejects.toBe(error);
  });

  it('treats an entry past its stale time as a miss', async () => {
    const clock = { now: Date.now() };
    const { cache, settle } = isolate({ clock });
    const key = uniqueKey();
    await cache.articles.swr(key, loaderOf(v1));
    await settle();

    clock.now += STALE + 1_000;
    expect(await cache.articles.get(key)).toBeUndefined();
    expect(await cache.articles.swr(key, loaderOf(v2))).toEqual({
      value: v2,
      tier: 'origin',
      stale: false,
    });
  });
});

describe('createCache keys', () => {
  it('never lets two organisations with the same id see each other', async () => {
    const { cache, settle } = isolate();
    const shared = uniqueKey();
    const a: CacheKey = { orgId: `${shared.orgId}-a`, id: shared.id };
    const b: CacheKey = { orgId: `${shared.orgId}-b`, id: shared.id };

    await cache.articles.swr(a, loaderOf(v1));
    await settle();
    expect(await cache.articles.get(b)).toBeUndefined();
    const loaderB = loaderOf(v2);
    expect(await cache.articles.swr(b, loaderB)).toMatchObject({ value: v2, tier: 'origin' });
    expect(loaderB).toHaveBeenCalledTimes(1);
    await settle();

    const cold = isolate();
    expect((await cold.cache.articles.get(a))?.value).toEqual(v1);
    expect((await cold.cache.articles.get(b))?.value).toEqual(v2);
  });

  it('keeps versions of one id apart', async () => {
    const { cache } = isolate();
    const key = uniqueKey();
    await cache.articles.set({ ...key, version: 1 }, v1);
    await cache.articles.set({ ...key, version: 2 }, v2);
    expect((await cache.articles.get({ ...key, version: 1 }))?.value).toEqual(v1);
    expect((await cache.articles.get({ ...key, version: 2 }))?.value).toEqual(v2);
    expect(await cache.articles.get(key)).toBeUndefined();
  });

  it('refuses a key without an organisation or with a bad version', () => {
    expect(() => cacheKey('articles', { orgId: '', id: 'cnt_1' })).toThrow(TypeError);
    expect(() => cacheKey('articles', { orgId: 'org_1', id: '' })).toThrow(TypeError);
    expect(() => cacheKey('articles', { orgId: 'org_1', id: 'x', version: -1 })).toThrow(TypeError);
    // A separator inside a part cannot make two different keys collide.
    expect(cacheKey('articles', { orgId: 'org_1:x', id: 'y' })).not.toBe(
      cacheKey('articles', { orgId: 'org_1', id: 'x:y' }),
    );
  });
});

describe('createCache set and remove', () => {
  it('remove() clears every tier', async () => {
    const { cache, memory, settle } = isolate();
    const key = uniqueKey();
    const full = cacheKey('articles', key);
    await cache.articles.swr(key, loaderOf(v1));
    await settle();
    expect(await liveRedis.get(full)).not.toBeNull();

    expect(await cache.articles.remove(key)).toEqual({ failed: [] });
    expect(await memory.get(full)).toBeUndefined();
    expect(await env.CACHE.get(full)).toBeNull();
    expect(await liveRedis.get(full)).toBeNull();
    const loader = loaderOf(v2);
    expect(await cache.articles.swr(key, loader)).toMatchObject({ value: v2, tier: 'origin' });
  });

  it('set() writes only the tiers asked for', async () => {
    const { cache, memory } = isolate();
    const key = uniqueKey();
    const full = cacheKey('articles', key);
    expect(await cache.articles.set(key, v1, { tiers: ['redis'] })).toEqual({ failed: [] });
    expect(await memory.get(full)).toBeUndefined();
    expect(await env.CACHE.get(full)).toBeNull();
    expect(await redis.get(full)).toMatchObject({ value: v1 });
    expect(await cache.articles.get(key)).toMatchObject({ value: v1, tier: 'redis' });
  });

  it('skips the tiers a namespace does not use', async () => {
    const { cache, settle } = isolate({
      policies: { articles: { fresh: FRESH, stale: STALE, tiers: ['memory', 'redis'] } },
    });
    const key = uniqueKey();
    await cache.articles.swr(key, loaderOf(v1));
    await settle();
    const full = cacheKey('articles', key);
    expect(await env.CACHE.get(full)).toBeNull();
    expect(await redis.get(full)).toMatchObject({ value: v1 });
  });
});

describe('createMemoryStore', () => {
  it('drops the least recently used entry past its bound', async () => {
    const memory = createMemoryStore({ maxEntries: 2 });
    const entry = { value: 1, freshUntil: Date.now() + 1_000, staleUntil: Date.now() + 1_000 };
    await memory.set('a', entry, 1_000);
    await memory.set('b', entry, 1_000);
    await memory.get('a');
    await memory.set('c', entry, 1_000);
    expect(await memory.get('a')).toBeDefined();
    expect(await memory.get('b')).toBeUndefined();
    expect(await memory.get('c')).toBeDefined();
  });
});
