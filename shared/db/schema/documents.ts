import { type SQL, sql } from 'drizzle-orm';
import {
  bigint,
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  unique,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { Enrichment } from '../../ai/schema.ts';
import { newId } from '../../ids.ts';
import { actor, actorCheck, createdAt, timestamptz, tsvector, updatedAt } from './columns.ts';
import { categories } from './content.ts';
import { organizations } from './tenancy.ts';

/**
 * Where a document is in its processing: `stored` once its original is in R2, then the pipeline's
 * stages, ending `ready`, `failed` (with a reason) or `needs_ocr` (a scanned PDF without a text
 * layer). The pipeline is `shared/documents/process.ts`.
 */
export const documentStatus = pgEnum('document_status', [
  'stored',
  'extracting',
  'chunking',
  'embedding',
  'enriching',
  'ready',
  'failed',
  'needs_ocr',
]);
export type DocumentStatus = (typeof documentStatus.enumValues)[number];

/** `private`: the uploader and the organisation's admins and owners; `organization`: every member. */
export const documentVisibility = pgEnum('document_visibility', ['private', 'organization']);
export type DocumentVisibility = (typeof documentVisibility.enumValues)[number];

/**
 * An uploaded file: its metadata here, its bytes in the `FILES` R2 bucket under `r2_key`
 * (`<org>/documents/<id>/original`). `sha256` is the original's digest (lowercase hex), unique
 * among an organisation's documents, so a re-upload of the same bytes is found and reported.
 * `version` increases by one per change of its metadata; `If-Match` compares against it.
 */
export const documents = pgTable(
  'documents',
  {
    id: text('id')
      .primaryKey()
      .$defaultFn(() => newId('document')),
    orgId: text('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    title: text('title').notNull(),
    locale: text('locale'),
    categoryId: text('category_id'),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    visibility: documentVisibility('visibility').notNull().default('organization'),
    /** Who uploaded it (an actor reference: a user or an API key). */
    uploadedBy: actor('uploaded_by').notNull(),
    /** The name the client gave the file, kept for downloads; never used to decide its type. */
    fileName: text('file_name').notNull(),
    /** The media type detected from the bytes (`application/pdf`, `text/markdown`, …). */
    contentType: text('content_type').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    sha256: text('sha256').notNull(),
    status: documentStatus('status').notNull().default('stored'),
    failureReason: text('failure_reason'),
    r2Key: text('r2_key').notNull(),
    /** The operation of its latest processing (`document.process`): progress and outcome. */
    operationId: text('operation_id'),
    /** What processing found: the language (ISO 639-1, `und` when unknown), pages (PDF), chunks. */
    language: text('language'),
    pageCount: integer('page_count'),
    chunkCount: integer('chunk_count'),
    /** The extracted text in R2 (`<org>/documents/<id>/text`), once extracted. */
    textKey: text('text_key'),
    /** SHA-256 of the extracted text: enrichment re-runs only when it changes (or on reprocess). */
    textSha256: text('text_sha256'),
    /** The AI enrichment (summaries, action items, risks, tags, category, type, and its cost). */
    enrichment: jsonb('enrichment').$type<Enrichment>(),
    /** When processing last reached a final status (`ready`, `failed`, `needs_ocr`). */
    processedAt: timestamptz('processed_at'),
    version: integer('version').notNull().default(1),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // Lists page by (created_at, id) descending; ascending here, scanned backwards (see content).
    index('documents_org_created_idx').on(t.orgId, t.createdAt, t.id),
    index('documents_org_status_created_idx').on(t.orgId, t.status, t.createdAt, t.id),
    index('documents_tags_idx').using('gin', t.tags),
    uniqueIndex('documents_org_sha256_key').on(t.orgId, t.sha256),
    unique('documents_org_id_key').on(t.orgId, t.id),
    foreignKey({
      name: 'documents_category_fk',
      columns: [t.orgId, t.categoryId],
      foreignColumns: [categories.orgId, categories.id],
    }),
    check('documents_sha256_hex', sql`${t.sha256} ~ '^[0-9a-f]{64}$'`),
    check('documents_size_positive', sql`${t.sizeBytes} > 0`),
    check('documents_version_positive', sql`${t.version} >= 1`),
    check(
      'documents_failure_reason_when_failed',
      sql`(${t.status} = 'failed') = (${t.failureReason} is not null)`,
    ),
    actorCheck('documents_uploaded_by_actor', t.uploadedBy),
  ],
);

/**
 * A document's chunks (`shared/documents/chunk.ts`): spans of its extracted text, in order, with
 * the pages and headings they sit under. `search` is the keyword side of document search, by the
 * document's language like content's; the dense and sparse sides are in the organisation's
 * documents namespace of the vector index (`<org>.documents`, ids `<document_id>:<index>`).
 * Rewritten whole on each processing; removed with their document.
 */
export const documentChunks = pgTable(
  'document_chunks',
  {
    orgId: text('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    documentId: text('document_id').notNull(),
    /** 0-based, in document order. */
    chunkIndex: integer('chunk_index').notNull(),
    text: text('text').notNull(),
    /** The document's language (ISO 639-1 or `und`): it chooses the text search configuration. */
    language: text('language').notNull(),
    pageStart: integer('page_start'),
    pageEnd: integer('page_end'),
    headingPath: text('heading_path').array().notNull().default(sql`'{}'::text[]`),
    charStart: integer('char_start').notNull(),
    charEnd: integer('char_end').notNull(),
    search: tsvector('search')
      .notNull()
      .generatedAlwaysAs(
        (): SQL =>
          sql.raw(
            `to_tsvector((case language when 'ar' then 'arabic'::regconfig when 'en' then 'english'::regconfig else 'simple'::regconfig end), text)`,
          ),
      ),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.documentId, t.chunkIndex] }),
    foreignKey({
      name: 'document_chunks_document_fk',
      columns: [t.orgId, t.documentId],
      foreignColumns: [documents.orgId, documents.id],
    }).onDelete('cascade'),
    index('document_chunks_search_idx').using('gin', t.search),
    check('document_chunks_index_nonnegative', sql`${t.chunkIndex} >= 0`),
    check('document_chunks_span', sql`0 <= ${t.charStart} and ${t.charStart} <= ${t.charEnd}`),
    check(
      'document_chunks_pages',
      sql`${t.pageStart} is null or (${t.pageStart} >= 1 and ${t.pageEnd} >= ${t.pageStart})`,
    ),
  ],
);
