import type { ContentSnapshot, ContentStatus } from '../db/schema/content.ts';
import type { Services } from '../services.ts';

/**
 * What the vector index keeps about one translation, filterable in queries. Times are Unix
 * seconds, since Upstash Vector filters compare numbers only (`published_at >= 1735689600`);
 * `category_id` and `published_at` are left out when null (`HAS FIELD` tells them apart).
 */
export type SearchMetadata = {
  content_id: string;
  locale: string;
  status: ContentStatus;
  category_id?: string;
  tags: string[];
  published_at?: number;
  updated_at: number;
  version: number;
  /** The translation's title, for answering a search without reading the item. */
  title: string;
  /** The item's free-form metadata, so searches can filter on its fields (`meta.region`). */
  meta: Record<string, unknown>;
};

/**
 * One document of the index: a translation of an item, under `<content_id>:<locale>`. `data` is
 * the text the index embeds (dense) and tokenises (sparse, BM25) itself: title, summary and body.
 */
export type SearchEntry = { id: string; data: string; metadata: SearchMetadata };

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
        data: [t.title, t.summary, t.body].filter((part) => part).join('\n\n'),
        metadata,
      };
    });
}

/** A filter string literal: single-quoted, with backslashes and quotes escaped. */
const quote = (value: string) => `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

export type IndexOutcome =
  | { ok: true; action: 'upserted'; ids: string[] }
  /** `deleted`: how many entries went (0 for an item that was never in the index). */
  | { ok: true; action: 'removed'; deleted: number }
  | { ok: false; error: unknown };

/**
 * Brings the organisation's search index in line with `snapshot`, in each of `namespaces` (the
 * active one, and the one being rebuilt if any: `writeNamespaces` in `namespace.ts`; by default
 * the organisation id), through the `vector` circuit breaker:
 *
 * - published and not deleted: upserts one entry per translation ({@link searchEntries}), then
 *   deletes the item's entries of locales the snapshot no longer has (upsert first, so the item
 *   never drops out of search while it is being updated);
 * - anything else (deleted, unpublished, archived, never published): deletes every entry of the
 *   item (`<content_id>:` prefix), whichever locales it had.
 *
 * Both are idempotent. The index is derived data that Postgres can rebuild (`search.reindex`),
 * so a failure (Upstash down, circuit open) is returned as `{ ok: false }`, never thrown: the
 * caller logs it and the write stands. Concurrent indexing of two versions of one item is not
 * ordered: the later call wins, which a rebuild repairs.
 */
export async function indexContent(
  services: Pick<Services, 'vector' | 'guard'>,
  snapshot: ContentSnapshot,
  namespaces: readonly string[] = [snapshot.org_id],
): Promise<IndexOutcome> {
  try {
    if (!isSearchable(snapshot)) {
      let deleted = 0;
      for (const name of namespaces) {
        const namespace = services.vector.namespace(name);
        const result = await services.guard('vector', () =>
          namespace.delete({ prefix: searchEntryId(snapshot.id, '') }),
        );
        deleted += result.deleted;
      }
      return { ok: true, action: 'removed', deleted };
    }
    const entries = searchEntries(snapshot);
    const locales = entries.map((e) => quote(e.metadata.locale));
    for (const name of namespaces) {
      const namespace = services.vector.namespace(name);
      await services.guard('vector', async () => {
        if (entries.length > 0) await namespace.upsert(entries);
        const others = locales.length > 0 ? ` AND locale NOT IN (${locales.join(', ')})` : '';
        await namespace.delete({ filter: `content_id = ${quote(snapshot.id)}${others}` });
      });
    }
    return { ok: true, action: 'upserted', ids: entries.map((e) => e.id) };
  } catch (error) {
    return { ok: false, error };
  }
}
