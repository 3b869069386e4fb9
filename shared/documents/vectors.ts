import { sparseDocumentVector } from '../search/sparse.ts';
import type { Services } from '../services.ts';

/**
 * Where a document's chunks live in the vector index, shared by the pipeline that writes them and
 * the searches that read them. Chunks are in a namespace of their own per organisation
 * (`<org>.documents`), apart from content's: a content rebuild (`search.reindex`) swaps content
 * namespaces whole and must not take documents with it, and content queries' `topK` must not be
 * spent on passages. Each record has a dense vector (the embedding of the chunk's text) and a
 * sparse one (`sparseDocumentVector({ title: heading path, body: text })`), as content's do.
 */

/** The organisation's documents namespace (`namespaceOrg` of it is still the organisation). */
export const documentsNamespace = (orgId: string) => `${orgId}.documents`;

/** A chunk's id in the index; every id of a document starts with `<document_id>:`. */
export const chunkVectorId = (documentId: string, chunkIndex: number) =>
  `${documentId}:${chunkIndex}`;

/**
 * A chunk record's metadata. Visibility is here for filtering in the index, but Postgres (the
 * `documents` row) is the authority: a search checks every hit against it before answering.
 */
export type ChunkMetadata = {
  document_id: string;
  chunk_index: number;
  /** The document's language (`ar`, `en`, `und`…). */
  language: string;
  page_start: number | null;
  page_end: number | null;
  category_id: string | null;
  tags: string[];
  visibility: 'private' | 'organization';
  /** The uploader (an actor reference), who may see a private document. */
  uploaded_by: string;
};

/** Chunks embedded per Workers AI call (its batch limit for the embedding models is 100). */
const EMBED_BATCH = 50;

export type IndexableChunk = {
  chunk_index: number;
  text: string;
  heading_path: readonly string[];
  page_start: number | null;
  page_end: number | null;
};

/**
 * Writes a document's chunks to its organisation's documents namespace (dense and sparse, in
 * batches, through the `ai` and `vector` breakers), then deletes the document's entries past the
 * last chunk (those of an earlier, longer version): upsert first, so the document never drops out
 * of search while it is reprocessed. Throws when embedding or the index fails; the pipeline
 * retries. `metadata` is what every chunk of the document shares.
 */
export async function indexDocumentChunks(
  services: Pick<Services, 'vector' | 'embeddings' | 'guard'>,
  orgId: string,
  metadata: Omit<ChunkMetadata, 'chunk_index' | 'page_start' | 'page_end'>,
  chunks: readonly IndexableChunk[],
  previousCount = 0,
): Promise<void> {
  const namespace = services.vector.namespace(documentsNamespace(orgId));
  for (let start = 0; start < chunks.length; start += EMBED_BATCH) {
    const batch = chunks.slice(start, start + EMBED_BATCH);
    const vectors = await services.guard('ai', () =>
      services.embeddings.embed(
        batch.map((c) => c.text),
        'document',
      ),
    );
    const records = batch.map((chunk, i) => ({
      id: chunkVectorId(metadata.document_id, chunk.chunk_index),
      vector: Array.from(vectors[i]!),
      sparseVector: sparseDocumentVector({
        title: chunk.heading_path.join(' › '),
        body: chunk.text,
      }),
      metadata: {
        ...metadata,
        chunk_index: chunk.chunk_index,
        page_start: chunk.page_start,
        page_end: chunk.page_end,
      } satisfies ChunkMetadata,
    }));
    await services.guard('vector', () => namespace.upsert(records));
  }
  const stale: string[] = [];
  for (let i = chunks.length; i < previousCount; i++) {
    stale.push(chunkVectorId(metadata.document_id, i));
  }
  if (stale.length > 0) await services.guard('vector', () => namespace.delete(stale));
}

/** Deletes every chunk of a document from the index (`<document_id>:` prefix); how many went. */
export async function removeDocumentChunks(
  services: Pick<Services, 'vector' | 'guard'>,
  orgId: string,
  documentId: string,
): Promise<number> {
  const namespace = services.vector.namespace(documentsNamespace(orgId));
  const result = await services.guard('vector', () =>
    namespace.delete({ prefix: `${documentId}:` }),
  );
  return result.deleted;
}

/** What of a chunk's metadata follows its document's metadata (`PATCH /v1/documents/{id}`). */
export type ChunkAccessMetadata = Pick<ChunkMetadata, 'category_id' | 'tags' | 'visibility'>;

/** Concurrent `update` calls when re-tagging a document's chunks. */
const UPDATE_CONCURRENCY = 10;

/**
 * Sets the category, tags and visibility on each of a document's `count` chunk records (a
 * metadata `PATCH`: vectors untouched), so filters in the index follow its metadata. Throws when
 * the index fails. Returns how many records were updated (a record gone is not).
 */
export async function retagDocumentChunks(
  services: Pick<Services, 'vector' | 'guard'>,
  orgId: string,
  documentId: string,
  count: number,
  metadata: ChunkAccessMetadata,
): Promise<number> {
  const namespace = services.vector.namespace(documentsNamespace(orgId));
  let updated = 0;
  for (let start = 0; start < count; start += UPDATE_CONCURRENCY) {
    const ids = Array.from({ length: Math.min(UPDATE_CONCURRENCY, count - start) }, (_, i) =>
      chunkVectorId(documentId, start + i),
    );
    const results = await Promise.all(
      ids.map((id) =>
        services.guard('vector', () =>
          namespace.update({ id, metadata, metadataUpdateMode: 'PATCH' }),
        ),
      ),
    );
    updated += results.reduce((n, r) => n + r.updated, 0);
  }
  return updated;
}

/**
 * The organisation's documents generation: a Redis counter the pipeline bumps whenever what its
 * documents say changes (a document ready, deleted, or its visibility changed). Answers cached
 * from documents (`POST /v1/ask`) are keyed by it, so they retire together at the next change.
 */
export const documentsGenerationKey = (orgId: string) => `docs:gen:${orgId}`;

export async function documentsGeneration(
  services: Pick<Services, 'redis' | 'guard'>,
  orgId: string,
): Promise<number> {
  const value = await services.guard('redis', () =>
    services.redis.get<number>(documentsGenerationKey(orgId)),
  );
  return Number(value ?? 0);
}

export async function bumpDocumentsGeneration(
  services: Pick<Services, 'redis' | 'guard'>,
  orgId: string,
): Promise<void> {
  await services.guard('redis', () => services.redis.incr(documentsGenerationKey(orgId)));
}
