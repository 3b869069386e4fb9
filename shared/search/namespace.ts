import { z } from 'zod';
import type { Services } from '../services.ts';

/**
 * Where an organisation's search index lives in Upstash Vector. `active` answers searches; a
 * rebuild fills `building` (a fresh namespace) while the consumer writes every change to both,
 * then swaps it in: searches never see a half-built index.
 */
export type IndexNamespaces = {
  active: string;
  building: { namespace: string; operationId: string } | null;
};

const key = (orgId: string, part: string) => `search:v1:${encodeURIComponent(orgId)}:${part}`;

/** How long an isolate trusts what it read of an organisation's namespaces. */
export const NAMESPACE_TTL_MS = 5_000;

/**
 * How long a rebuild waits after announcing its namespace before copying into it: longer than
 * {@link NAMESPACE_TTL_MS}, so every isolate's consumer writes changes to it by then.
 */
export const REBUILD_START_DELAY_SECONDS = 10;

/**
 * How long a replaced namespace is kept, for isolates still reading it, before the cron job
 * drops it.
 */
export const DROP_DELAY_SECONDS = 60;

/** The Redis sorted set of replaced namespaces, scored by when they were replaced (ms). */
export const RETIRED_KEY = 'search:v1:retired-namespaces';

/** The organisation a namespace belongs to (`<orgId>` or `<orgId>.g<n>`). */
export function namespaceOrg(namespace: string): string {
  return namespace.split('.', 1)[0]!;
}

const Building = z.object({ namespace: z.string().min(1), operationId: z.string().min(1) });

const memory = new Map<string, { value: IndexNamespaces; until: number }>();

type NamespaceServices = Pick<Services, 'redis' | 'guard' | 'logger'>;

/**
 * The organisation's namespaces: from the isolate's memory when read in the last
 * {@link NAMESPACE_TTL_MS}, else from Redis (`active` defaults to the organisation id, the
 * namespace of an index never rebuilt). With Redis down, the last value this isolate read, or
 * the default (logged).
 */
export async function indexNamespaces(
  services: NamespaceServices,
  orgId: string,
  now = Date.now(),
): Promise<IndexNamespaces> {
  const cached = memory.get(orgId);
  if (cached && cached.until > now) return cached.value;
  try {
    const [active, building] = await services.guard('redis', () =>
      services.redis.mget<[string | null, unknown]>(
        key(orgId, 'namespace'),
        key(orgId, 'building'),
      ),
    );
    const parsed = Building.safeParse(building);
    const value: IndexNamespaces = {
      active: active ?? orgId,
      building: parsed.success ? parsed.data : null,
    };
    memory.set(orgId, { value, until: now + NAMESPACE_TTL_MS });
    return value;
  } catch (error) {
    services.logger.warn('search namespaces unreadable; using the last known', { orgId, error });
    return cached?.value ?? { active: orgId, building: null };
  }
}

/** Makes the next {@link indexNamespaces} in this isolate read Redis. */
export function forgetNamespaces(orgId: string): void {
  memory.delete(orgId);
}

/** The namespaces an indexing change must reach: the active one and any being built. */
export function writeNamespaces(namespaces: IndexNamespaces): string[] {
  return namespaces.building
    ? [namespaces.active, namespaces.building.namespace]
    : [namespaces.active];
}

/**
 * Announces a rebuild of the organisation's index into a new namespace (`<orgId>.g<n>`), for
 * operation `operationId`. Undefined when a rebuild is already under way (its operation id is
 * then in `running`). Throws when Redis is unreachable.
 */
export async function beginRebuild(
  services: NamespaceServices,
  orgId: string,
  operationId: string,
): Promise<{ namespace: string } | { running: string }> {
  const generation = await services.guard('redis', () =>
    services.redis.incr(key(orgId, 'generation')),
  );
  const building = { namespace: `${orgId}.g${generation}`, operationId };
  const set = await services.guard('redis', () =>
    services.redis.set(key(orgId, 'building'), building, { nx: true }),
  );
  memory.delete(orgId);
  if (set === 'OK') return { namespace: building.namespace };
  const current = Building.safeParse(
    await services.guard('redis', () => services.redis.get(key(orgId, 'building'))),
  );
  return { running: current.success ? current.data.operationId : 'unknown' };
}

/**
 * Makes the rebuilt `namespace` the active one and ends the rebuild. The namespace it replaced
 * is retired (dropped by the cron job {@link DROP_DELAY_SECONDS} later) and returned; undefined
 * when `namespace` was already active (a repeated completion).
 */
export async function completeRebuild(
  services: NamespaceServices,
  orgId: string,
  namespace: string,
): Promise<string | undefined> {
  const previous = await services.guard('redis', () =>
    services.redis.getset<string>(key(orgId, 'namespace'), namespace),
  );
  await services.guard('redis', () => services.redis.del(key(orgId, 'building')));
  memory.delete(orgId);
  const replaced = previous ?? orgId;
  if (replaced === namespace) return undefined;
  await services.guard('redis', () =>
    services.redis.zadd(RETIRED_KEY, { score: Date.now(), member: replaced }),
  );
  return replaced;
}

/** Ends a rebuild without swapping (it failed): the active namespace stays. */
export async function abandonRebuild(services: NamespaceServices, orgId: string): Promise<void> {
  await services.guard('redis', () => services.redis.del(key(orgId, 'building')));
  memory.delete(orgId);
}
