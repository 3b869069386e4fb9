import { and, asc, count, eq, gt, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { loadSnapshots } from '../content/store.ts';
import { content } from '../db/schema/content.ts';
import { operations } from '../db/schema/operations.ts';
import { isId, newId } from '../ids.ts';
import { publishOperation } from '../realtime/publish.ts';
import type { Services } from '../services.ts';
import { searchEntries } from './index-entry.ts';
import { bumpIndexVersions } from './index-version.ts';
import {
  abandonRebuild,
  beginRebuild,
  completeRebuild,
  DROP_DELAY_SECONDS,
  forgetNamespaces,
  indexNamespaces,
  namespaceOrg,
  REBUILD_START_DELAY_SECONDS,
  RETIRED_KEY,
} from './namespace.ts';
import { encodeEntries, type SearchMetadata } from './records.ts';

/** A page of a rebuild: the items after `after` (by id) go into `namespace`. */
export const SEARCH_REINDEX = 'search.reindex';

/** Items per page of a rebuild: one `JOBS` message each, well within a consumer's time. */
export const REINDEX_PAGE = 100;

/**
 * Records per upsert request: a 1,024-dimension record is about 15 KB of JSON, so a page's
 * records go in requests of about 400 KB rather than one of several MB.
 */
const UPSERT_RECORDS = 25;

/** A rebuild with no progress for this long is taken as dead: a new one may replace it. */
export const STALLED_REBUILD_MS = 15 * 60_000;

const OperationId = z.string().refine((id) => isId('operation', id), 'must be an operation id');
const OrgId = z.string().refine((id) => isId('organization', id), 'must be an organisation id');

export const ReindexPage = z.object({
  operation_id: OperationId,
  org_id: OrgId,
  namespace: z.string().min(1),
  /** The last content id of the previous page; null for the first page. */
  after: z.string().nullable(),
});
export type ReindexPage = z.infer<typeof ReindexPage>;

/** What a rebuild's operation reports while it runs. */
export type ReindexProgress = { done: number; total: number | null; after: string | null };

type ReindexServices = Pick<
  Services,
  'db' | 'redis' | 'vector' | 'embeddings' | 'guard' | 'logger' | 'enqueue' | 'waitUntil' | 'env'
>;

/**
 * Starts rebuilding the organisation's search index from Postgres: announces a fresh namespace
 * (so the `WRITES` consumer writes every change to it too), records a `search.reindex`
 * operation and queues its first page, {@link REBUILD_START_DELAY_SECONDS} later. A rebuild
 * already running answers `{ running }` with its operation id, unless it failed or stalled
 * ({@link STALLED_REBUILD_MS} without progress), in which case it is abandoned and replaced.
 */
export async function startReindex(
  services: ReindexServices,
  orgId: string,
  options: { createdBy: string | null; requestId: string | null },
): Promise<{ operationId: string } | { running: string }> {
  const operationId = newId('operation');
  let begun = await beginRebuild(services, orgId, operationId);
  if ('running' in begun) {
    const [running] = await services.db
      .select({ status: operations.status, updatedAt: operations.updatedAt })
      .from(operations)
      .where(and(eq(operations.id, begun.running), eq(operations.orgId, orgId)));
    const dead =
      !running ||
      running.status === 'failed' ||
      running.status === 'applied' ||
      Date.now() - running.updatedAt.getTime() > STALLED_REBUILD_MS;
    if (!dead) return { running: begun.running };
    await abandonRebuild(services, orgId);
    begun = await beginRebuild(services, orgId, operationId);
    if ('running' in begun) return { running: begun.running };
  }
  try {
    const progress: ReindexProgress = { done: 0, total: null, after: null };
    await services.db.insert(operations).values({
      id: operationId,
      orgId,
      kind: SEARCH_REINDEX,
      status: 'queued',
      resourceType: 'search_index',
      resourceId: begun.namespace,
      progress,
      requestId: options.requestId,
      createdBy: options.createdBy,
    });
    const page: ReindexPage = {
      operation_id: operationId,
      org_id: orgId,
      namespace: begun.namespace,
      after: null,
    };
    await services.enqueue('jobs', SEARCH_REINDEX, page, {
      orgId,
      delaySeconds: REBUILD_START_DELAY_SECONDS,
    });
  } catch (error) {
    await abandonRebuild(services, orgId).catch(() => undefined);
    throw error;
  }
  return { operationId };
}

/** Published, not deleted: what the index holds. */
const searchable = (orgId: string) =>
  and(eq(content.orgId, orgId), eq(content.status, 'published'), isNull(content.deletedAt));

/**
 * One page of a rebuild, idempotent under redelivery:
 *
 * 1. a page whose `after` is not where the operation's progress stands is a duplicate (or the
 *    operation is finished): acknowledged without work;
 * 2. the first page counts the items and marks the operation running;
 * 3. the next {@link REINDEX_PAGE} searchable items by id are read from Postgres and their
 *    entries upserted into the new namespace, except where it already holds a newer version
 *    (the consumer wrote a later change there meanwhile);
 * 4. a full page queues the next one, then advances the progress (only from where it stood,
 *    so a duplicate chain dies out); the last page swaps the namespace in, bumps the index
 *    version (cached results go) and marks the operation applied; the old namespace is retired,
 *    for the cron job to drop ({@link dropRetiredNamespaces}).
 */
export async function reindexPage(services: ReindexServices, page: ReindexPage): Promise<void> {
  const [operation] = await services.db
    .select({ status: operations.status, progress: operations.progress })
    .from(operations)
    .where(and(eq(operations.id, page.operation_id), eq(operations.orgId, page.org_id)));
  if (!operation) throw new Error(`operation ${page.operation_id} not found`);
  const progress = (operation.progress ?? { done: 0, total: null, after: null }) as ReindexProgress;
  if (operation.status === 'applied' || operation.status === 'failed') return;
  if ((progress.after ?? null) !== page.after) return;

  let total = progress.total;
  if (page.after === null) {
    const [row] = await services.db
      .select({ n: count() })
      .from(content)
      .where(searchable(page.org_id));
    total = row?.n ?? 0;
    await services.db
      .update(operations)
      .set({
        status: 'running',
        startedAt: sql`now()`,
        updatedAt: sql`now()`,
        progress: { ...progress, total },
      })
      .where(eq(operations.id, page.operation_id));
  }

  const ids = (
    await services.db
      .select({ id: content.id })
      .from(content)
      .where(
        page.after === null
          ? searchable(page.org_id)
          : and(searchable(page.org_id), gt(content.id, page.after)),
      )
      .orderBy(asc(content.id))
      .limit(REINDEX_PAGE)
  ).map((r) => r.id);
  const snapshots = await loadSnapshots(services.db, page.org_id, ids);
  const entries = [...snapshots.values()].flatMap(searchEntries);
  if (entries.length > 0) {
    const namespace = services.vector.namespace(page.namespace);
    const held = await services.guard('vector', () =>
      namespace.fetch<SearchMetadata>(
        entries.map((e) => e.id),
        { includeMetadata: true },
      ),
    );
    const fresh = entries.filter((e, i) => {
      const version = held[i]?.metadata?.version;
      return version === undefined || version <= e.metadata.version;
    });
    const records = await encodeEntries(services, fresh);
    for (let i = 0; i < records.length; i += UPSERT_RECORDS) {
      const chunk = records.slice(i, i + UPSERT_RECORDS);
      await services.guard('vector', () => namespace.upsert(chunk));
    }
  }

  const done = progress.done + ids.length;
  const last = ids.at(-1) ?? page.after;
  if (ids.length === REINDEX_PAGE) {
    const next: ReindexPage = { ...page, after: last };
    await services.enqueue('jobs', SEARCH_REINDEX, next, { orgId: page.org_id });
    await services.db
      .update(operations)
      .set({ progress: { done, total, after: last }, updatedAt: sql`now()` })
      .where(
        and(
          eq(operations.id, page.operation_id),
          sql`${operations.progress}->>'after' is not distinct from ${page.after}`,
        ),
      );
    await publishOperation(
      services,
      page.operation_id,
      'operation.progress',
      { done, total },
      `${page.operation_id}.${done}`,
    );
    return;
  }
  await completeRebuild(services, page.org_id, page.namespace);
  await bumpIndexVersions(services, [page.org_id]);
  await services.db
    .update(operations)
    .set({
      status: 'applied',
      progress: { done, total, after: last },
      completedAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(eq(operations.id, page.operation_id));
  await publishOperation(
    services,
    page.operation_id,
    'operation.completed',
    { status: 'applied', done, total },
    `${page.operation_id}.applied`,
  );
}

/** Upstash's answer for a namespace that does not exist. */
const missingNamespace = (error: unknown) =>
  error instanceof Error && /namespace .*(?:not found|does not exist)/i.test(error.message);

/**
 * Drops the namespaces rebuilds replaced more than {@link DROP_DELAY_SECONDS} before `now`
 * (no isolate reads them any more), unless one has become active or is being built again. A
 * namespace already gone counts as dropped. Returns the namespaces dropped.
 */
export async function dropRetiredNamespaces(
  services: Pick<Services, 'redis' | 'vector' | 'guard' | 'logger'>,
  now: number,
): Promise<string[]> {
  const due = await services.guard('redis', () =>
    services.redis.zrange<string[]>(RETIRED_KEY, 0, now - DROP_DELAY_SECONDS * 1_000, {
      byScore: true,
    }),
  );
  const dropped: string[] = [];
  for (const namespace of due) {
    const orgId = namespaceOrg(namespace);
    forgetNamespaces(orgId);
    const current = await indexNamespaces(services, orgId);
    const inUse = current.active === namespace || current.building?.namespace === namespace;
    if (!inUse) {
      try {
        await services.guard('vector', () => services.vector.deleteNamespace(namespace), {
          isFailure: (error) => !missingNamespace(error),
        });
      } catch (error) {
        if (!missingNamespace(error)) throw error;
      }
      dropped.push(namespace);
    }
    await services.guard('redis', () => services.redis.zrem(RETIRED_KEY, namespace));
  }
  return dropped;
}
