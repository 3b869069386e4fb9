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
