import type { ContentStatus } from '../db/schema/content.ts';
import type { EmbeddingProvider } from '../embeddings/interface.ts';
import { type DocumentFields, type SparseVector, sparseDocumentVector } from './sparse.ts';

// What the search index stores, and how a document becomes its vectors. No runtime dependency
// on the Worker's services, so that tools and benchmarks in Node can encode documents alike.

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
 * One document of the index: a translation of an item, under `<content_id>:<locale>`, with the
 * fields its vectors are computed from ({@link encodeEntries}).
 */
export type SearchEntry = { id: string; fields: DocumentFields; metadata: SearchMetadata };

/**
 * A document as the index stores it. The index is created with no embedding models: Sift computes
 * both vectors itself, the dense one with its embedding provider (Workers AI) and the sparse one
 * with its own text analysis (`sparse.ts`), so that indexing and querying analyse text alike.
 */
export type IndexRecord = {
  id: string;
  vector: number[];
  sparseVector: SparseVector;
  metadata: SearchMetadata;
};

/** The text the dense vector is computed from: title, summary and body. */
export function denseText(fields: DocumentFields): string {
  return [fields.title, fields.summary, fields.body].filter((part) => part).join('\n\n');
}

/**
 * The index records of `entries`: one batch of embeddings through the `ai` circuit breaker (the
 * provider splits it into requests), sparse vectors computed here. Throws when embedding fails.
 */
export async function encodeEntries(
  services: Encoder,
  entries: readonly SearchEntry[],
): Promise<IndexRecord[]> {
  if (entries.length === 0) return [];
  const vectors = await services.guard('ai', () =>
    services.embeddings.embed(
      entries.map((e) => denseText(e.fields)),
      'document',
    ),
  );
  return entries.map((entry, i) => ({
    id: entry.id,
    vector: Array.from(vectors[i]!),
    sparseVector: sparseDocumentVector(entry.fields),
    metadata: entry.metadata,
  }));
}

/** What encoding needs: the embedding model, called through a circuit breaker (`Services`). */
export type Encoder = {
  embeddings: EmbeddingProvider;
  guard<T>(dependency: 'ai', fn: () => Promise<T>): Promise<T>;
};
