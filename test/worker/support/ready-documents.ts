import { documentChunks, documents } from '../../../shared/db/schema/documents.ts';
import { bumpDocumentsGeneration, indexDocumentChunks } from '../../../shared/documents/vectors.ts';
import { newId } from '../../../shared/ids.ts';
import { testDb, testServices } from '../helpers.ts';

export type ReadyChunk = {
  text: string;
  page?: number;
  headings?: string[];
};

export type ReadyDocumentOptions = {
  title: string;
  /** `en`, `ar`, or `und`. Default `en`. */
  language?: string;
  chunks: (string | ReadyChunk)[];
  visibility?: 'private' | 'organization';
  /** An actor reference (`usr_…`, `key_…`). Default `system`. */
  uploadedBy?: string;
  categoryId?: string | null;
  tags?: string[];
  /** Default `ready`; another status leaves the document out of search. */
  status?: 'ready' | 'embedding' | 'failed';
};

/**
 * A processed document as the pipeline leaves it: its `documents` row (ready unless told), its
 * `document_chunks` rows (offsets of the chunks joined by a blank line) and its chunks in the
 * organisation's documents namespace (`indexDocumentChunks`), then the documents generation
 * bumped. The chunk vectors are written before the function returns (the index is read-your-
 * writes), so a search may follow at once.
 */
export async function readyDocument(
  orgId: string,
  options: ReadyDocumentOptions,
): Promise<{ id: string; chunks: { text: string; charStart: number; charEnd: number }[] }> {
  const id = newId('document');
  const language = options.language ?? 'en';
  const status = options.status ?? 'ready';
  const chunks = options.chunks.map((c) => (typeof c === 'string' ? { text: c } : c));
  const db = testDb();
  const digest = [...crypto.getRandomValues(new Uint8Array(32))]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('');
  await db.insert(documents).values({
    id,
    orgId,
    title: options.title,
    locale: language === 'und' ? null : language,
    categoryId: options.categoryId ?? null,
    tags: options.tags ?? [],
    visibility: options.visibility ?? 'organization',
    uploadedBy: options.uploadedBy ?? 'system',
    fileName: `${id}.txt`,
    contentType: 'text/plain',
    sizeBytes: chunks.reduce((n, c) => n + c.text.length, 0) + 1,
    sha256: digest,
    status,
    ...(status === 'failed' ? { failureReason: 'test' } : {}),
    r2Key: `${orgId}/documents/${id}/original`,
    language,
    chunkCount: chunks.length,
    processedAt: status === 'ready' ? new Date() : null,
  });
  let at = 0;
  const placed = chunks.map((c, i) => {
    const start = at;
    at += c.text.length + 2;
    return { ...c, index: i, charStart: start, charEnd: start + c.text.length };
  });
  await db.insert(documentChunks).values(
    placed.map((c) => ({
      orgId,
      documentId: id,
      chunkIndex: c.index,
      text: c.text,
      language,
      pageStart: c.page ?? null,
      pageEnd: c.page ?? null,
      headingPath: c.headings ?? [],
      charStart: c.charStart,
      charEnd: c.charEnd,
    })),
  );
  const services = testServices();
  await indexDocumentChunks(
    services,
    orgId,
    {
      document_id: id,
      language,
      category_id: options.categoryId ?? null,
      tags: options.tags ?? [],
      visibility: options.visibility ?? 'organization',
      uploaded_by: options.uploadedBy ?? 'system',
    },
    placed.map((c) => ({
      chunk_index: c.index,
      text: c.text,
      heading_path: c.headings ?? [],
      page_start: c.page ?? null,
      page_end: c.page ?? null,
    })),
  );
  await bumpDocumentsGeneration(services, orgId);
  return {
    id,
    chunks: placed.map((c) => ({ text: c.text, charStart: c.charStart, charEnd: c.charEnd })),
  };
}
