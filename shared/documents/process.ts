import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Enrichment } from '../ai/schema.ts';
import { categories } from '../db/schema/content.ts';
import { type DocumentStatus, documentChunks, documents } from '../db/schema/documents.ts';
import { operations, type ProblemDocument } from '../db/schema/operations.ts';
import { enrichText } from '../enrichment/enrich.ts';
import { problem } from '../errors.ts';
import { isId, newId } from '../ids.ts';
import { publishOperation } from '../realtime/publish.ts';
import type { Services } from '../services.ts';
import type { Lang } from '../text/analyze.ts';
import { chunkDocument } from './chunk.ts';
import { DOCUMENT_TYPES as CONTENT_TYPES } from './detect.ts';
import { extractDocument } from './extract.ts';
import { textKey } from './storage.ts';
import type { DocumentType, ExtractionFailure } from './types.ts';
import {
  bumpDocumentsGeneration,
  type ChunkMetadata,
  indexDocumentChunks,
  removeDocumentChunks,
} from './vectors.ts';

/**
 * The document processing pipeline: one `JOBS` message (`document.process`) per processing of a
 * document, run in stages — extracting (the original from R2 to text, written back beside it),
 * chunking (the `document_chunks` rows, replaced in one transaction), embedding (the chunks into
 * the organisation's documents namespace), enriching (`enrichText`, only when the text changed or
 * on reprocess) — to `ready`. The document's `status` and its operation's `progress`
 * (`{ stage, done?, total? }`, also published on `operation:<id>`) follow the stages.
 *
 * Failures: an extraction failure is the file's (a typed value): `no_text_layer` ends the
 * document `needs_ocr`, any other `failed` with `failure_reason` `<code>: <message>`, and the
 * operation `failed` with a problem naming the code. Everything else (Postgres, Redis, the vector
 * index, Workers AI or R2 failing) is thrown for the queue to retry; once the retries run out the
 * dead-letter consumer fails the operation and the document ({@link failDeadLetteredProcessing}).
 *
 * A document that does not end `ready` keeps no chunks: its rows and vectors are removed (those
 * of an earlier successful processing too), so what search holds always matches a `ready`
 * document's text. Its extracted text is kept when extraction succeeded.
 */

export const DOCUMENT_PROCESS = 'document.process';
/** Removes a deleted document's vectors when the index could not at the time of the delete. */
export const DOCUMENT_VECTORS_REMOVE = 'document.vectors.remove';

/** The operation kind of a processing. */
export const DOCUMENT_PROCESS_KIND = 'document.process';

/** A processing queued or running for longer than this without progress is taken as dead. */
export const STALLED_PROCESSING_MS = 15 * 60_000;

const OperationId = z.string().refine((id) => isId('operation', id), 'must be an operation id');
const OrgId = z.string().refine((id) => isId('organization', id), 'must be an organisation id');
const DocumentId = z.string().refine((id) => isId('document', id), 'must be a document id');

export const DocumentProcess = z.object({
  org_id: OrgId,
  document_id: DocumentId,
  operation_id: OperationId,
  /** A reprocess asked for by a user: every stage runs, enrichment included. */
  reprocess: z.boolean().optional(),
});
export type DocumentProcess = z.infer<typeof DocumentProcess>;

export const DocumentVectorsRemove = z.object({ org_id: OrgId, document_id: DocumentId });
export type DocumentVectorsRemove = z.infer<typeof DocumentVectorsRemove>;

/** The stages, as the operation's `progress.stage` names them. */
export type ProcessingStage = 'extracting' | 'chunking' | 'embedding' | 'enriching' | 'ready';
export type ProcessingProgress = { stage: ProcessingStage; done?: number; total?: number };

type ProcessServices = Pick<
  Services,
  | 'db'
  | 'transaction'
  | 'redis'
  | 'vector'
  | 'embeddings'
  | 'ai'
  | 'guard'
  | 'enqueue'
  | 'logger'
  | 'env'
>;

/** Chunk rows per insert statement (nine parameters a row, well under Postgres' 65,535). */
const CHUNK_ROWS_PER_INSERT = 500;

/** The extractor's type for a document's detected media type. */
const EXTRACT_TYPES: Record<string, DocumentType> = {
  [CONTENT_TYPES.pdf]: 'pdf',
  [CONTENT_TYPES.docx]: 'docx',
  [CONTENT_TYPES.html]: 'html',
  [CONTENT_TYPES.markdown]: 'md',
  [CONTENT_TYPES.text]: 'txt',
};

/** SHA-256 of a text's UTF-8 bytes, lowercase hex. */
async function textDigest(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The problem document stored on a processing operation that failed. */
function processingProblem(
  detail: string,
  extensions: Record<string, unknown>,
  requestId: string | undefined,
): ProblemDocument {
  const { request_id: _, ...document } = problem('UNPROCESSABLE', detail, {
    requestId: '',
    extensions,
  });
  return requestId ? { ...document, request_id: requestId } : document;
}

/**
 * Creates the operation of a processing of `documentId` (`document.process`, `queued`). The
 * caller points the document at it and queues the message ({@link processingMessage}).
 */
export function processingOperation(
  orgId: string,
  documentId: string,
  options: { createdBy: string | null; requestId: string | null },
) {
  return {
    id: newId('operation'),
    orgId,
    kind: DOCUMENT_PROCESS_KIND,
    status: 'queued' as const,
    resourceType: 'document',
    resourceId: documentId,
    progress: { stage: 'stored' },
    requestId: options.requestId,
    createdBy: options.createdBy,
  };
}

/**
 * Marks a processing operation failed because its message could not be queued (the queue
 * refused): it would otherwise stay `queued` for ever. Only from `queued`.
 */
export async function failUnqueuedProcessing(
  services: Pick<Services, 'db'>,
  orgId: string,
  operationId: string,
  requestId: string | null,
): Promise<void> {
  const { request_id: _, ...document } = problem(
    'SERVICE_UNAVAILABLE',
    'The processing could not be queued (the job queue refused it); nothing was processed.',
    { requestId: '' },
  );
  await services.db
    .update(operations)
    .set({
      status: 'failed',
      error: requestId ? { ...document, request_id: requestId } : document,
      completedAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(operations.id, operationId),
        eq(operations.orgId, orgId),
        eq(operations.status, 'queued'),
      ),
    );
}

/**
 * The end of a processing that made no progress for {@link STALLED_PROCESSING_MS} and is
 * replaced by `replacedBy` (a reprocess): `failed`, naming its replacement.
 */
export function stalledProcessing(replacedBy: string) {
  const { request_id: _, ...document } = problem(
    'SERVICE_UNAVAILABLE',
    `The processing made no progress for ${STALLED_PROCESSING_MS / 60_000} minutes and was replaced by ${replacedBy}.`,
    { requestId: '', extensions: { reason: 'stalled', replaced_by: replacedBy } },
  );
  return {
    status: 'failed' as const,
    error: document,
    completedAt: sql`now()`,
    updatedAt: sql`now()`,
  };
}

/** What became of one processing message, for the log. */
export type ProcessOutcome =
  | 'ready'
  | 'failed'
  | 'needs_ocr'
  /** Its operation had already ended (a redelivery): nothing done. */
  | 'duplicate'
  /** The document was deleted, or moved on to a later processing: nothing done. */
  | 'dropped';

/**
 * Runs one processing of a document through its stages (see the module comment). Idempotent
 * under redelivery: a message whose operation already ended is acknowledged without work, a
 * document deleted meanwhile drops it (its operation marked failed), and every stage rewrites
 * what it produces whole, so a retry after a stage failed starts again cleanly. Throws for the
 * queue to retry when a dependency fails.
 */
export async function processDocument(
  services: ProcessServices,
  bucket: R2Bucket,
  message: DocumentProcess,
  requestId?: string,
): Promise<ProcessOutcome> {
  const { org_id: orgId, document_id: documentId, operation_id: operationId } = message;
  const [operation] = await services.db
    .select({ status: operations.status })
    .from(operations)
    .where(and(eq(operations.id, operationId), eq(operations.orgId, orgId)));
  if (!operation) {
    services.logger.warn('document processing for an operation that does not exist; dropped', {
      operation_id: operationId,
      document_id: documentId,
    });
    return 'dropped';
  }
  if (operation.status !== 'queued' && operation.status !== 'running') return 'duplicate';

  const ours = and(
    eq(documents.id, documentId),
    eq(documents.orgId, orgId),
    eq(documents.operationId, operationId),
  );
  /** The document was deleted, or moved on to a later processing: this one ends failed. */
  const gone = async () => {
    await endOperation(services, orgId, operationId, {
      status: 'failed',
      error: processingProblem(
        'The document was deleted, or reprocessed again, before this processing finished.',
        { document_id: documentId, reason: 'superseded' },
        requestId,
      ),
    });
    return 'dropped' as const;
  };
  const [row] = await services.db.select().from(documents).where(ours);
  if (!row) return gone();

  /** Sets the document's stage (only while it is still this processing's) and reports it. */
  const stage = async (
    status: DocumentStatus,
    progress: ProcessingProgress,
    set: Partial<typeof documents.$inferInsert> = {},
  ): Promise<boolean> => {
    const updated = await services.db
      .update(documents)
      .set({ ...set, status, failureReason: null, updatedAt: sql`now()` })
      .where(ours)
      .returning({ id: documents.id });
    if (updated.length === 0) return false;
    await services.db
      .update(operations)
      .set({
        status: 'running',
        progress,
        startedAt: sql`coalesce(${operations.startedAt}, now())`,
        updatedAt: sql`now()`,
      })
      .where(
        and(eq(operations.id, operationId), inArray(operations.status, ['queued', 'running'])),
      );
    await publishOperation(
      services,
      operationId,
      'operation.progress',
      { document_id: documentId, ...progress },
      `${operationId}.${progress.stage}.${progress.done ?? 0}`,
    );
    return true;
  };
  // Extracting.
  if (!(await stage('extracting', { stage: 'extracting' }))) return gone();
  const type = EXTRACT_TYPES[row.contentType];
  const object = await bucket.get(row.r2Key);
  const extracted: Awaited<ReturnType<typeof extractDocument>> = !type
    ? {
        ok: false,
        code: 'unsupported',
        message: `Documents of type ${row.contentType} are not read.`,
      }
    : !object
      ? { ok: false, code: 'corrupt', message: "The document's original is missing from storage." }
      : await extractDocument(new Uint8Array(await object.arrayBuffer()), type);
  if (!extracted.ok) {
    return failProcessing(services, bucket, row, operationId, extracted, requestId);
  }
  const text = extracted.text;
  const textSha256 = await textDigest(text);
  const key = textKey(orgId, documentId);
  await bucket.put(key, text, {
    httpMetadata: { contentType: 'text/plain; charset=utf-8' },
    sha256: textSha256,
  });
  const pageCount = extracted.pages?.length ?? null;
  const language = extracted.language.code;
  if (
    !(await stage(
      'chunking',
      { stage: 'chunking' },
      { textKey: key, textSha256, language, pageCount },
    ))
  ) {
    // Deleted meanwhile, its prefix emptied before the text arrived: the text goes too. (When a
    // later processing replaced this one, the text is that one's to write.)
    const [exists] = await services.db
      .select({ id: documents.id })
      .from(documents)
      .where(and(eq(documents.id, documentId), eq(documents.orgId, orgId)));
    if (!exists) await bucket.delete(key);
    return gone();
  }

  // Chunking: the rows are replaced whole, so the keyword side never mixes two versions.
  const chunks = chunkDocument(extracted.blocks);
  const stillOurs = await services.transaction(async (tx) => {
    const [locked] = await tx
      .select({ id: documents.id })
      .from(documents)
      .where(ours)
      .for('update');
    if (!locked) return false;
    await tx
      .delete(documentChunks)
      .where(and(eq(documentChunks.orgId, orgId), eq(documentChunks.documentId, documentId)));
    for (let start = 0; start < chunks.length; start += CHUNK_ROWS_PER_INSERT) {
      await tx.insert(documentChunks).values(
        chunks.slice(start, start + CHUNK_ROWS_PER_INSERT).map((chunk) => ({
          orgId,
          documentId,
          chunkIndex: chunk.index,
          text: chunk.text,
          language,
          pageStart: chunk.page_start,
          pageEnd: chunk.page_end,
          headingPath: chunk.heading_path,
          charStart: chunk.char_start,
          charEnd: chunk.char_end,
        })),
      );
    }
    return true;
  });
  if (!stillOurs) return gone();

  // Embedding: the metadata as the document is now (a PATCH may have changed it meanwhile).
  if (!(await stage('embedding', { stage: 'embedding', done: 0, total: chunks.length })))
    return gone();
  const [current] = await services.db.select().from(documents).where(ours);
  if (!current) return gone();
  await indexDocumentChunks(
    services,
    orgId,
    chunkMetadata(current),
    chunks.map((chunk) => ({
      chunk_index: chunk.index,
      text: chunk.text,
      heading_path: chunk.heading_path,
      page_start: chunk.page_start,
      page_end: chunk.page_end,
    })),
    // The vectors of the last `ready` processing (chunk_count is set only then).
    current.chunkCount ?? 0,
  );

  // Enriching: only for new text, or when asked to run every stage again.
  let enrichment: Enrichment | undefined;
  if (message.reprocess || row.textSha256 !== textSha256 || row.enrichment === null) {
    if (!(await stage('enriching', { stage: 'enriching' }))) return gone();
    enrichment = await enrichText(services, {
      orgId,
      subject: { type: 'document', id: documentId },
      text,
      ...(language === 'ar' || language === 'en' ? { locale: language as Lang } : {}),
      categories: await categoryNames(services, orgId, language),
    });
  }

  // Ready.
  const readied = await services.db
    .update(documents)
    .set({
      status: 'ready',
      failureReason: null,
      chunkCount: chunks.length,
      processedAt: sql`now()`,
      updatedAt: sql`now()`,
      ...(enrichment ? { enrichment } : {}),
    })
    .where(ours)
    .returning({ id: documents.id });
  if (readied.length === 0) return gone();
  await bumpDocumentsGeneration(services, orgId);
  await endOperation(services, orgId, operationId, {
    status: 'applied',
    progress: { stage: 'ready', done: chunks.length, total: chunks.length },
  });
  return 'ready';
}

/** What every chunk of the document carries in the index. */
export function chunkMetadata(
  row: Pick<
    typeof documents.$inferSelect,
    'id' | 'language' | 'categoryId' | 'tags' | 'visibility' | 'uploadedBy'
  >,
): Omit<ChunkMetadata, 'chunk_index' | 'page_start' | 'page_end'> {
  return {
    document_id: row.id,
    language: row.language ?? 'und',
    category_id: row.categoryId,
    tags: row.tags,
    visibility: row.visibility,
    uploaded_by: row.uploadedBy,
  };
}

/**
 * The organisation's live category names to choose from, each in the document's language when
 * it has one, else English, else its first.
 */
async function categoryNames(
  services: Pick<Services, 'db'>,
  orgId: string,
  language: string,
): Promise<string[]> {
  const rows = await services.db
    .select({ names: categories.names })
    .from(categories)
    .where(and(eq(categories.orgId, orgId), isNull(categories.deletedAt)))
    .orderBy(asc(categories.id));
  const names = rows
    .map(({ names }) => {
      const byLocale = names as Record<string, string>;
      return byLocale[language] ?? byLocale.en ?? Object.values(byLocale)[0];
    })
    .filter((name): name is string => typeof name === 'string' && name.length > 0);
  return [...new Set(names)];
}

/** Ends the operation (only from `queued` or `running`) and tells its channel. */
async function endOperation(
  services: Pick<Services, 'db' | 'env' | 'redis' | 'logger'>,
  orgId: string,
  operationId: string,
  end:
    | { status: 'applied'; progress: ProcessingProgress }
    | { status: 'failed'; error: ProblemDocument },
): Promise<void> {
  const updated = await services.db
    .update(operations)
    .set({
      status: end.status,
      ...(end.status === 'applied' ? { progress: end.progress } : { error: end.error }),
      startedAt: sql`coalesce(${operations.startedAt}, now())`,
      completedAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(operations.id, operationId),
        eq(operations.orgId, orgId),
        inArray(operations.status, ['queued', 'running']),
      ),
    )
    .returning({ id: operations.id });
  if (updated.length === 0) return;
  await publishOperation(
    services,
    operationId,
    'operation.completed',
    end.status === 'applied'
      ? { status: 'applied', ...end.progress }
      : { status: 'failed', error: end.error },
    `${operationId}.${end.status}`,
  );
}

/**
 * Ends a processing whose file could not be read: `needs_ocr` for a PDF without a text layer,
 * else `failed` with `<code>: <message>`; the chunks of any earlier processing go (rows and
 * vectors), as does the text, and the operation fails with a problem naming the code.
 */
async function failProcessing(
  services: ProcessServices,
  bucket: R2Bucket,
  row: typeof documents.$inferSelect,
  operationId: string,
  failure: ExtractionFailure,
  requestId: string | undefined,
): Promise<ProcessOutcome> {
  const status = failure.code === 'no_text_layer' ? 'needs_ocr' : 'failed';
  const hadChunks = (row.chunkCount ?? 0) > 0;
  // Vectors first: if the index is down this throws and the message is retried, with the
  // document's rows still saying where it was.
  if (hadChunks) await removeDocumentChunks(services, row.orgId, row.id);
  const ended = await services.transaction(async (tx) => {
    const updated = await tx
      .update(documents)
      .set({
        status,
        failureReason: status === 'failed' ? `${failure.code}: ${failure.message}` : null,
        textKey: null,
        textSha256: null,
        chunkCount: 0,
        processedAt: sql`now()`,
        updatedAt: sql`now()`,
      })
      .where(
        and(
          eq(documents.id, row.id),
          eq(documents.orgId, row.orgId),
          eq(documents.operationId, operationId),
        ),
      )
      .returning({ id: documents.id });
    if (updated.length === 0) return false;
    await tx
      .delete(documentChunks)
      .where(and(eq(documentChunks.orgId, row.orgId), eq(documentChunks.documentId, row.id)));
    return true;
  });
  // The text of an earlier processing (the row no longer names it).
  if (row.textKey) await bucket.delete(row.textKey);
  if (!ended) {
    await endOperation(services, row.orgId, operationId, {
      status: 'failed',
      error: processingProblem(
        'The document was deleted, or reprocessed again, before this processing finished.',
        { document_id: row.id, reason: 'superseded' },
        requestId,
      ),
    });
    return 'dropped';
  }
  if (hadChunks) await bumpDocumentsGeneration(services, row.orgId);
  await endOperation(services, row.orgId, operationId, {
    status: 'failed',
    error: processingProblem(
      status === 'needs_ocr'
        ? `The document has no text layer (a scanned PDF): it needs OCR. ${failure.message}`
        : `The document could not be read (${failure.code}): ${failure.message}`,
      { document_id: row.id, reason: failure.code, document_status: status },
      requestId,
    ),
  });
  return status;
}

/**
 * A processing whose message was dead-lettered (its retries ran out, or it could never run): the
 * document, if still at this processing and not final, ends `failed` with the reason, and keeps
 * no chunks (rows now; vectors as far as the index lets, logged when it does not — search checks
 * hits against Postgres). The operation itself is failed by the dead-letter consumer.
 */
export async function failDeadLetteredProcessing(
  services: Pick<Services, 'db' | 'transaction' | 'vector' | 'redis' | 'guard' | 'logger'>,
  message: DocumentProcess,
  reason: string,
): Promise<void> {
  const { org_id: orgId, document_id: documentId, operation_id: operationId } = message;
  const failed = await services.transaction(async (tx) => {
    const updated = await tx
      .update(documents)
      .set({
        status: 'failed',
        failureReason: `processing_stopped: ${reason}`,
        chunkCount: 0,
        processedAt: sql`now()`,
        updatedAt: sql`now()`,
      })
      .where(
        and(
          eq(documents.id, documentId),
          eq(documents.orgId, orgId),
          eq(documents.operationId, operationId),
          inArray(documents.status, ['stored', 'extracting', 'chunking', 'embedding', 'enriching']),
        ),
      )
      .returning({ id: documents.id });
    if (updated.length === 0) return false;
    await tx
      .delete(documentChunks)
      .where(and(eq(documentChunks.orgId, orgId), eq(documentChunks.documentId, documentId)));
    return true;
  });
  if (!failed) return;
  try {
    await removeDocumentChunks(services, orgId, documentId);
    await bumpDocumentsGeneration(services, orgId);
  } catch (error) {
    services.logger.error("a failed document's vectors could not be removed", {
      document_id: documentId,
      error,
    });
  }
}
