import { z } from 'zod';
import { loadSnapshots } from '../content/store.ts';
import { isId } from '../ids.ts';
import type { Services } from '../services.ts';
import { indexChanged, indexSnapshots, removeFromIndex } from './index-entry.ts';
import { bumpIndexVersions } from './index-version.ts';
import { indexNamespaces, writeNamespaces } from './namespace.ts';

/**
 * Items the `WRITES` consumer could not index (Upstash Vector or Workers AI down), indexed again
 * from Postgres a little later, so that an item published during an outage does not stay out of
 * search until its next change.
 */
export const SEARCH_INDEX = 'search.index';

/** How long after the failure the first retry runs; the queue's backoff spaces the next ones. */
export const INDEX_RETRY_DELAY_SECONDS = 60;

/** Items per message. */
export const INDEX_RETRY_BATCH = 100;

export const IndexRetry = z.object({
  org_id: z.string().refine((id) => isId('organization', id), 'must be an organisation id'),
  content_ids: z
    .array(z.string().refine((id) => isId('content', id), 'must be a content id'))
    .min(1)
    .max(INDEX_RETRY_BATCH),
});
export type IndexRetry = z.infer<typeof IndexRetry>;

type RetryServices = Pick<
  Services,
  'db' | 'redis' | 'vector' | 'embeddings' | 'guard' | 'enqueue' | 'logger'
>;

/**
 * Queues, per organisation, the items whose indexing failed, {@link INDEX_RETRY_DELAY_SECONDS}
 * from now. Never throws: the write stands either way, and a rebuild repairs what is left.
 */
export async function scheduleIndexRetry(
  services: Pick<Services, 'enqueue' | 'logger'>,
  failed: readonly { orgId: string; contentId: string }[],
): Promise<void> {
  const byOrg = new Map<string, Set<string>>();
  for (const { orgId, contentId } of failed) {
    byOrg.set(orgId, (byOrg.get(orgId) ?? new Set()).add(contentId));
  }
  for (const [orgId, ids] of byOrg) {
    const all = [...ids];
    for (let i = 0; i < all.length; i += INDEX_RETRY_BATCH) {
      const payload: IndexRetry = {
        org_id: orgId,
        content_ids: all.slice(i, i + INDEX_RETRY_BATCH),
      };
      try {
        await services.enqueue('jobs', SEARCH_INDEX, payload, {
          orgId,
          delaySeconds: INDEX_RETRY_DELAY_SECONDS,
        });
      } catch (error) {
        services.logger.warn('search index retry not queued', { org_id: orgId, error });
      }
    }
  }
}

/**
 * Brings the index in line with what Postgres holds now for each item: indexed when it is
 * published, removed otherwise (deleted, unpublished, gone). Throws when the index or the model
 * still fails, so that the queue retries with backoff and finally dead-letters the message.
 */
export async function retryIndexing(services: RetryServices, retry: IndexRetry): Promise<void> {
  const snapshots = await loadSnapshots(services.db, retry.org_id, retry.content_ids, {
    includeDeleted: true,
  });
  const namespaces = writeNamespaces(await indexNamespaces(services, retry.org_id));
  const found = retry.content_ids.flatMap((id) => snapshots.get(id) ?? []);
  const outcomes = await indexSnapshots(services, found, async () => namespaces);
  let changed = false;
  for (const outcome of outcomes) {
    if (!outcome.ok) throw outcome.error;
    changed ||= indexChanged(outcome);
  }
  // Never persisted in this organisation: nothing of it may be in its index.
  for (const id of retry.content_ids.filter((id) => !snapshots.has(id))) {
    changed ||= (await removeFromIndex(services, id, namespaces)) > 0;
  }
  if (changed) await bumpIndexVersions(services, [retry.org_id]);
}
