import type { Entry, Store } from './interface.ts';

/** How many entries an isolate's memory tier holds before it drops the least recently used. */
export const MEMORY_MAX_ENTRIES = 10_000;

type Slot = { entry: Entry; expiresAt: number };

/**
 * An in-isolate memory tier over a `Map`, bounded to `maxEntries` (default 10 000): a hit moves
 * the key to the end of the map's insertion order and a set past the bound drops from the front,
 * so the least recently used entries go first. Entries are kept by reference, not copied: callers
 * must treat cached values as immutable. Physical expiry (`ttlMs`) runs on the real clock.
 */
export function createMemoryStore({ maxEntries = MEMORY_MAX_ENTRIES } = {}): Store {
  const slots = new Map<string, Slot>();
  return {
    async get(key) {
      const slot = slots.get(key);
      if (slot === undefined) return undefined;
      slots.delete(key);
      if (slot.expiresAt <= Date.now()) return undefined;
      slots.set(key, slot);
      return slot.entry;
    },
    async set(key, entry, ttlMs) {
      slots.delete(key);
      slots.set(key, { entry, expiresAt: Date.now() + ttlMs });
      for (const oldest of slots.keys()) {
        if (slots.size <= maxEntries) break;
        slots.delete(oldest);
      }
    },
    async remove(key) {
      slots.delete(key);
    },
  };
}

/**
 * The isolate's memory tier, shared by every request the isolate serves (module scope outlives a
 * request; `env` does not, which is why the other tiers are built per request).
 */
export const isolateMemoryStore: Store = createMemoryStore();
