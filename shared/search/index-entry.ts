import type { ContentSnapshot } from '../db/schema/content.ts';
import type { Services } from '../services.ts';
import {
  encodeEntries,
  type IndexRecord,
  type SearchEntry,
  type SearchMetadata,
} from './records.ts';
import { filterString } from './vector-search.ts';

/** The index id of an item's translation; every id of an item starts with `<content_id>:`. */
export function searchEntryId(contentId: string, locale: string): string {
  return `${contentId}:${locale}`;
}

/** Whether an item belongs in the search index: published and not deleted. */
export function isSearchable(snapshot: Pick<ContentSnapshot, 'status' | 'deleted_at'>): boolean {
  return snapshot.status === 'published' && snapshot.deleted_at === null;
}

const seconds = (time: string) => Math.floor(Date.parse(time) / 1_000);

/**
 * The documents to index for `snapshot`, one per translation, in locale order. Pure: it does
 * not check {@link isSearchable}, so a caller can also use it to know what an item would look
 * like in the index.
 */
export function searchEntries(snapshot: ContentSnapshot): SearchEntry[] {
  return Object.keys(snapshot.translations)
    .sort()
    .map((locale) => {
      const t = snapshot.translations[locale]!;
      const metadata: SearchMetadata = {
        content_id: snapshot.id,
        locale,
        status: snapshot.status,
        ...(snapshot.category_id !== null ? { category_id: snapshot.category_id } : {}),
        tags: snapshot.tags,
        ...(snapshot.published_at !== null ? { published_at: seconds(snapshot.published_at) } : {}),
        updated_at: seconds(snapshot.updated_at),
        version: snapshot.version,
        title: t.title,
        meta: snapshot.metadata,
      };
      return {
        id: searchEntryId(snapshot.id, locale),
        fields: { title: t.title, summary: t.summary, body: t.body },
        metadata,
      };
    });
}

/**
 * The index records of the searchable ones of `snapshots`, by content id, embedded in one batch
 * ({@link encodeEntries}). Throws when embedding fails.
 */
async function encodeSnapshots(
  services: Pick<Services, 'embeddings' | 'guard'>,
  snapshots: readonly ContentSnapshot[],
): Promise<Map<string, IndexRecord[]>> {
  const entries = snapshots.flatMap((s) => (isSearchable(s) ? searchEntries(s) : []));
  const records = new Map<string, IndexRecord[]>();
  for (const record of await encodeEntries(services, entries)) {
    const id = record.metadata.content_id;
    records.set(id, [...(records.get(id) ?? []), record]);
  }
  return records;
}

export type IndexOutcome =
  | { ok: true; action: 'upserted'; ids: string[] }
  /** `deleted`: how many entries went (0 for an item that was never in the index). */
  | { ok: true; action: 'removed'; deleted: number }
  | { ok: false; error: unknown };

/** Whether an outcome changed the index: an upsert, or a removal that deleted entries. */
export function indexChanged(outcome: IndexOutcome): boolean {
  return outcome.ok && (outcome.action === 'upserted' || outcome.deleted > 0);
}

/**
 * Brings the organisation's search index in line with `snapshot`, in each of `namespaces` (the
 * active one, and the one being rebuilt if any: `writeNamespaces` in `namespace.ts`; by default
 * the organisation id), through the `vector` circuit breaker:
 *
 * - published and not deleted: upserts one record per translation (`records`, when the caller
 *   encoded a batch at once; else {@link encodeEntries} of {@link searchEntries}), then deletes
 *   the item's entries of locales the snapshot no longer has (upsert first, so the item never
 *   drops out of search while it is being updated);
 * - anything else (deleted, unpublished, archived, never published): deletes every entry of the
 *   item (`<content_id>:` prefix), whichever locales it had.
 *
 * Both are idempotent. The index is derived data that Postgres can rebuild (`search.reindex`),
 * so a failure (Upstash or Workers AI down, circuit open) is returned as `{ ok: false }`, never
 * thrown: the caller logs it and the write stands. Concurrent indexing of two versions of one
 * item is not ordered: the later call wins, which a rebuild repairs.
 */
export async function indexContent(
  services: Pick<Services, 'vector' | 'embeddings' | 'guard'>,
  snapshot: ContentSnapshot,
  namespaces: readonly string[] = [snapshot.org_id],
  records?: readonly IndexRecord[],
): Promise<IndexOutcome> {
  try {
    if (!isSearchable(snapshot)) {
      return {
        ok: true,
        action: 'removed',
        deleted: await removeFromIndex(services, snapshot.id, namespaces),
      };
    }
    const upserts = records ?? (await encodeEntries(services, searchEntries(snapshot)));
    const locales = upserts.map((e) => filterString(e.metadata.locale));
    for (const name of namespaces) {
      const namespace = services.vector.namespace(name);
      await services.guard('vector', async () => {
        if (upserts.length > 0) await namespace.upsert([...upserts]);
        const others = locales.length > 0 ? ` AND locale NOT IN (${locales.join(', ')})` : '';
        await namespace.delete({ filter: `content_id = ${filterString(snapshot.id)}${others}` });
      });
    }
    return { ok: true, action: 'upserted', ids: upserts.map((e) => e.id) };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * Deletes every entry of an item (`<content_id>:` prefix, whichever locales it had) from each of
 * `namespaces`, through the `vector` circuit breaker; how many went. Throws when the index fails.
 */
export async function removeFromIndex(
  services: Pick<Services, 'vector' | 'guard'>,
  contentId: string,
  namespaces: readonly string[],
): Promise<number> {
  let deleted = 0;
  for (const name of namespaces) {
    const namespace = services.vector.namespace(name);
    const result = await services.guard('vector', () =>
      namespace.delete({ prefix: searchEntryId(contentId, '') }),
    );
    deleted += result.deleted;
  }
  return deleted;
}

/**
 * {@link indexContent} for each of `snapshots`, the searchable ones embedded in one batch, each
 * into the namespaces `namespacesOf` gives its organisation. When embedding fails, each
 * searchable snapshot's outcome is that failure; the others are still removed. Throws only
 * what `namespacesOf` throws.
 */
export async function indexSnapshots(
  services: Pick<Services, 'vector' | 'embeddings' | 'guard'>,
  snapshots: readonly ContentSnapshot[],
  namespacesOf: (orgId: string) => Promise<readonly string[]>,
): Promise<IndexOutcome[]> {
  let records: Map<string, IndexRecord[]> | undefined;
  let failure: unknown;
  try {
    records = await encodeSnapshots(services, snapshots);
  } catch (error) {
    failure = error;
  }
  return Promise.all(
    snapshots.map(async (snapshot): Promise<IndexOutcome> => {
      if (records === undefined && isSearchable(snapshot)) return { ok: false, error: failure };
      const namespaces = await namespacesOf(snapshot.org_id);
      return indexContent(services, snapshot, namespaces, records?.get(snapshot.id));
    }),
  );
}
