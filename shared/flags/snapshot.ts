import type { Services } from '../services.ts';
import type { FlagDefinition } from './rules.ts';
import { type FlagSet, loadFlagSet } from './store.ts';

/**
 * An organisation's flag set as evaluation reads it: isolate memory (at most
 * {@link SNAPSHOT_MEMORY_MS}), then KV (`flags:<org>` → `{ version, flags }`), then Postgres.
 * The hot path is a memory read: no network call for a minute at a time. A change publishes the
 * new set (Postgres → this isolate's memory and KV) before it answers, so it applies at once in
 * the isolate that made it and, through KV, in every other isolate once its copy expires.
 * When a copy expires and KV answers, a check of the Postgres version runs after the response
 * (`waitUntil`), so a KV write lost to a race is repaired by the next evaluation after it.
 *
 * Outages: KV down → Postgres answers; Postgres down → KV answers; both down (or the set never
 * loaded) → the last copy this isolate held, marked `stale`, however old; none at all → an
 * error the caller turns into per-flag `ERROR` answers, never a 500.
 */
export const SNAPSHOT_MEMORY_MS = 60_000;

/** KV entries live a week: a set changes rarely, and a copy lets Postgres outages pass. */
const KV_TTL_SECONDS = 7 * 24 * 3_600;

type Held = { set: FlagSet; loadedAt: number };

/** Snapshots by organisation, for the isolate's life (a cache, so a `Map` at module scope). */
const memory = new Map<string, Held>();

export const flagSetKvKey = (orgId: string) => `flags:${orgId}`;

/** Where a snapshot came from, and whether it is past its freshness bound. */
export type SnapshotResult =
  | { ok: true; set: FlagSet; source: 'memory' | 'kv' | 'postgres'; stale: boolean }
  | { ok: false; error: unknown };

type SnapshotServices = Pick<Services, 'kv' | 'db' | 'guard' | 'logger' | 'waitUntil'>;

function isFlagSet(value: unknown): value is FlagSet {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as FlagSet).version === 'number' &&
    Array.isArray((value as FlagSet).flags)
  );
}

function hold(orgId: string, set: FlagSet, now: number): void {
  const held = memory.get(orgId);
  // Never replace a newer set with an older one (a slow KV read racing a publish).
  if (held !== undefined && held.set.version > set.version) {
    held.loadedAt = now;
    return;
  }
  memory.set(orgId, { set, loadedAt: now });
}

/** The organisation's flag set, through the tiers (see the module comment). */
export async function getFlagSet(
  services: SnapshotServices,
  orgId: string,
  now: number = Date.now(),
): Promise<SnapshotResult> {
  const held = memory.get(orgId);
  if (held !== undefined && now - held.loadedAt < SNAPSHOT_MEMORY_MS) {
    return { ok: true, set: held.set, source: 'memory', stale: false };
  }
  try {
    const cached: unknown = await services.guard('kv', () =>
      services.kv.get(flagSetKvKey(orgId), { type: 'json' }),
    );
    if (isFlagSet(cached)) {
      hold(orgId, cached, now);
      services.waitUntil(verifyAgainstPostgres(services, orgId, cached.version));
      return { ok: true, set: memory.get(orgId)!.set, source: 'kv', stale: false };
    }
  } catch (error) {
    services.logger.warn('flag snapshot: KV unreadable, reading Postgres', { orgId, error });
  }
  try {
    const set = await services.guard('postgres', () => loadFlagSet(services.db, orgId));
    hold(orgId, set, now);
    services.waitUntil(writeKv(services, orgId, set));
    return { ok: true, set, source: 'postgres', stale: false };
  } catch (error) {
    if (held !== undefined) {
      services.logger.warn('flag snapshot: KV and Postgres unreachable, serving a stale copy', {
        orgId,
        version: held.set.version,
        error,
      });
      return { ok: true, set: held.set, source: 'memory', stale: true };
    }
    services.logger.error('flag snapshot: no copy and no store reachable', { orgId, error });
    return { ok: false, error };
  }
}

/**
 * After a change committed at `version`: loads the set from Postgres into this isolate's
 * memory and writes it to KV. A failure is logged, never thrown (the change is committed; other
 * isolates catch up through the version check).
 */
export async function publishFlagSet(
  services: Pick<Services, 'kv' | 'db' | 'guard' | 'logger'>,
  orgId: string,
  version: number,
  now: number = Date.now(),
): Promise<void> {
  try {
    const set = await services.guard('postgres', () => loadFlagSet(services.db, orgId));
    if (set.version < version) {
      services.logger.warn('flag snapshot: read an older set than was committed', {
        orgId,
        version,
        read: set.version,
      });
    }
    hold(orgId, set, now);
    await writeKv(services, orgId, set);
  } catch (error) {
    memory.delete(orgId);
    services.logger.error('flag snapshot not published; other isolates may lag', {
      orgId,
      version,
      error,
    });
  }
}

async function writeKv(
  services: Pick<Services, 'kv' | 'guard' | 'logger'>,
  orgId: string,
  set: FlagSet,
): Promise<void> {
  try {
    await services.guard('kv', () =>
      services.kv.put(flagSetKvKey(orgId), JSON.stringify(set), { expirationTtl: KV_TTL_SECONDS }),
    );
  } catch (error) {
    services.logger.warn('flag snapshot: KV not written', { orgId, error });
  }
}

async function verifyAgainstPostgres(
  services: SnapshotServices,
  orgId: string,
  version: number,
): Promise<void> {
  try {
    const set = await services.guard('postgres', () => loadFlagSet(services.db, orgId));
    if (set.version !== version) {
      hold(orgId, set, Date.now());
      await writeKv(services, orgId, set);
    }
  } catch {
    // Postgres unreachable: the KV copy stands until the next check.
  }
}

/** The definition of `key` in `set`, if it is live there. */
export function findFlag(set: FlagSet, key: string): FlagDefinition | undefined {
  return set.flags.find((flag) => flag.key === key);
}

/** Forgets every isolate copy (tests). */
export function clearFlagSnapshots(): void {
  memory.clear();
}

/** Makes every isolate copy as old as {@link SNAPSHOT_MEMORY_MS} (tests: a copy past its bound). */
export function expireFlagSnapshots(): void {
  for (const held of memory.values()) held.loadedAt = -Infinity;
}
