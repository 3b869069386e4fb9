/** The cache's tiers, nearest first: the order a read walks them in. */
export const TIERS = ['memory', 'kv', 'redis'] as const;
export type TierName = (typeof TIERS)[number];

/** Which tier answered a read: one of `TIERS`, or `origin` when the loader (Postgres) did. */
export type Tier = TierName | 'origin';

/**
 * One cached value with its freshness, stored alike in every tier. Times are epoch milliseconds
 * on the cache's clock: before `freshUntil` the value is served as is; until `staleUntil` it is
 * served marked stale while the loader refreshes it in the background; after that it is a miss.
 * `value` is `undefined` in a negative entry (the origin had nothing); JSON tiers store that by
 * leaving the field out.
 */
export type Entry<T = unknown> = { value?: T; freshUntil: number; staleUntil: number };

/**
 * A cache tier: a key-value store of entries. Keys arrive fully built (namespace and organisation
 * included); the store only keeps, returns and deletes. A store throws when its backend fails:
 * the cache skips that tier and logs it, it never fails a read because of one.
 */
export type Store = {
  /** The entry under `key`, or `undefined` when absent or unreadable. */
  get(key: string): Promise<Entry | undefined>;
  /**
   * Keeps `entry` under `key` for at least `ttlMs` (the time left to its `staleUntil`); a store
   * may keep it longer (KV's minimum is 60 s), since readers check `staleUntil` themselves.
   */
  set(key: string, entry: Entry, ttlMs: number): Promise<void>;
  remove(key: string): Promise<void>;
};

/** Whether `raw` (parsed JSON from a shared tier) has an entry's shape. */
export function isEntry(raw: unknown): raw is Entry {
  if (typeof raw !== 'object' || raw === null) return false;
  const { freshUntil, staleUntil } = raw as Record<string, unknown>;
  return Number.isFinite(freshUntil) && Number.isFinite(staleUntil);
}
