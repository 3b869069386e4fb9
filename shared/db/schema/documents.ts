import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  foreignKey,
  index,
  integer,
  pgEnum,
  pgTable,
  text,
  unique,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { newId } from '../../ids.ts';
import { actor, actorCheck, createdAt, updatedAt } from './columns.ts';
import { categories } from './content.ts';
import { organizations } from './tenancy.ts';

/**
 * Where a document is in its processing: `stored` once its original is in R2, then the pipeline's
 * stages, ending `ready`, `failed` (with a reason) or `needs_ocr` (a scanned PDF without a text
 * layer). Only `stored` is reached until the pipeline exists.
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
