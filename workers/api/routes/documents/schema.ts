import { z } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import { ACTOR_DESCRIPTION, ActorRefSchema } from '../../../../shared/actor.ts';
import { EnrichmentSchema } from '../../../../shared/ai/schema.ts';
import type { Principal } from '../../../../shared/auth/permissions.ts';
import { CONTENT_LIMITS, Locale, Tag, Title } from '../../../../shared/content/schema.ts';
import { categories } from '../../../../shared/db/schema/content.ts';
import {
  documentStatus,
  documents,
  documentVisibility,
} from '../../../../shared/db/schema/documents.ts';
import { canSeeDocument } from '../../../../shared/documents/access.ts';
import { DOCUMENT_TYPES } from '../../../../shared/documents/detect.ts';
import { AppError } from '../../../../shared/errors.ts';
import { exampleId } from '../../../../shared/ids.ts';
import type { Services } from '../../../../shared/services.ts';
import { listParam, MAX_FILTER_VALUES } from '../../filters.ts';
import { Id, idParams } from '../../params.ts';

export const DocumentSchema = z
  .object({
    id: z.string().openapi({ example: exampleId('document') }),
    title: z.string().openapi({ example: 'Quarterly risk review' }),
    locale: z.string().nullable().openapi({
      description: 'The BCP 47 locale of its text, when known.',
      example: 'en',
    }),
    category_id: z
      .string()
      .nullable()
      .openapi({ example: exampleId('category') }),
    tags: z.array(z.string()).openapi({ example: ['finance', 'q3'] }),
    visibility: z.enum(documentVisibility.enumValues).openapi({
      description:
        '`organization`: every member and API key of the organisation. `private`: its uploader, ' +
        'owners, admins and super admins.',
    }),
    uploaded_by: ActorRefSchema.meta({
      description: `Who uploaded it: ${ACTOR_DESCRIPTION}.`,
      example: 'usr_01jd5x3k7yf0v9r2m4q6s8t1wz',
    }),
    file_name: z.string().openapi({ example: 'risk-review.pdf' }),
    content_type: z.enum(Object.values(DOCUMENT_TYPES) as [string, ...string[]]).openapi({
      description: 'The media type detected from the bytes at upload (never from the name).',
      example: 'application/pdf',
    }),
    size_bytes: z.number().int().openapi({ example: 482133 }),
    sha256: z.string().openapi({
      description: "The original's SHA-256, lowercase hex.",
      example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    }),
    status: z.enum(documentStatus.enumValues).openapi({
      description:
        "`stored` once the original is kept; then its processing's stages (`extracting`, " +
        '`chunking`, `embedding`, `enriching`), ending `ready` (searchable by its chunks), ' +
        '`failed` (see `failure_reason`) or `needs_ocr` (a scanned PDF without a text layer).',
    }),
    failure_reason: z
      .string()
      .nullable()
      .openapi({
        description:
          'Why processing failed (`status: failed`), as `<code>: <message>` (`corrupt`, ' +
          '`encrypted`, `too_large`, `too_large_uncompressed`, `timeout`, `unsupported`, or ' +
          '`processing_stopped` when its retries ran out); null otherwise.',
        example: null,
      }),
    operation_id: z
      .string()
      .nullable()
      .openapi({
        description:
          'The operation of its latest processing (`/v1/operations/{id}`): its `progress` ' +
          '(`{ stage, done, total }`) and outcome.',
        example: exampleId('operation'),
      }),
    language: z.string().nullable().openapi({
      description:
        'The language of its extracted text (ISO 639-1, `und` when unknown); null until extracted.',
      example: 'en',
    }),
    page_count: z.number().int().nullable().openapi({
      description: 'Pages (PDF only); null otherwise or until extracted.',
      example: 12,
    }),
    chunk_count: z.number().int().nullable().openapi({
      description: 'Chunks it is searchable by, set when it is `ready`; null before.',
      example: 24,
    }),
    processed_at: z.iso.datetime().nullable().openapi({
      description: 'When processing last ended (`ready`, `failed` or `needs_ocr`).',
      example: '2025-01-01T12:00:05.000Z',
    }),
    enrichment: EnrichmentSchema.nullable().openapi({
      description:
        'What enrichment found: summaries (short, medium, detailed), action items, risks, and ' +
        "suggested tags, category and document type (suggestions only: the document's own " +
        '`tags` and `category_id` are never changed by it), with the engine, model and cost. ' +
        'Null until enriched.',
    }),
    text_url: z.string().openapi({
      description: 'Where the extracted text is read, once extracted.',
      example: `/v1/documents/${exampleId('document')}/text`,
    }),
    version: z.number().int().openapi({
      description: 'One more at each change of the metadata; the `ETag` is made from it.',
      example: 1,
    }),
    original_url: z.string().openapi({
      description: 'Where the original is downloaded.',
      example: `/v1/documents/${exampleId('document')}/original`,
    }),
    created_at: z.iso.datetime().openapi({ example: '2025-01-01T12:00:00.000Z' }),
    updated_at: z.iso.datetime().openapi({ example: '2025-01-01T12:00:00.000Z' }),
  })
  .openapi('Document');
export type DocumentView = z.infer<typeof DocumentSchema>;

export const DocumentPageSchema = z
  .object({
    items: z.array(DocumentSchema),
    next_cursor: z.string().nullable().openapi({
      description: 'Pass as `cursor` for the next (older) page; null on the last page.',
    }),
  })
  .openapi('DocumentPage');

export const DocumentIdParamsSchema = idParams('document');

/** At most this many tags on a document (as on content). */
const MAX_TAGS = CONTENT_LIMITS.tags;
const MAX_FILE_NAME = 255;

/** A file name as given: trimmed, 1 to 255 characters, no control characters or path separators. */
export const FileName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .refine((name) => [...name].length <= MAX_FILE_NAME, {
    message: `must be at most ${MAX_FILE_NAME} characters`,
    abort: true,
  })
  .refine((name) => !/[\p{Cc}/\\]/u.test(name), 'must not contain control characters, / or \\')
  .meta({ maxLength: MAX_FILE_NAME });

export const Visibility = z.enum(documentVisibility.enumValues, {
  error: `must be one of: ${documentVisibility.enumValues.join(', ')}`,
});

/** Tags as one query parameter (repeated or comma-separated), lower-cased and de-duplicated. */
const TagsParam = listParam(Tag, MAX_TAGS).transform((tags) => [...new Set(tags)]);

/** The upload's metadata, in the query string (the body is the file itself). */
export const DocumentUploadQuerySchema = z.object({
  file_name: FileName.openapi({
    description:
      `The file's name (1 to ${MAX_FILE_NAME} characters), kept for downloads. It never decides ` +
      'the type; only a `.md` / `.markdown` extension marks UTF-8 text as Markdown.',
    example: 'risk-review.pdf',
  }),
  title: Title.optional().openapi({
    description: `1 to ${CONTENT_LIMITS.title} characters, trimmed; the file name by default.`,
    example: 'Quarterly risk review',
  }),
  locale: Locale.optional().openapi({ description: 'BCP 47, canonicalised.', example: 'en' }),
  category_id: Id('category').optional(),
  tags: TagsParam.optional().openapi({
    description: `Up to ${MAX_TAGS} tags: \`tags=a&tags=b\` or \`tags=a,b\`; lower-cased.`,
    example: 'finance,q3',
  }),
  visibility: Visibility.default('organization').openapi({
    description: '`organization` (default) or `private` (the uploader, owners and admins).',
  }),
});

export const DocumentPatchSchema = z
  .strictObject({
    title: Title.optional(),
    locale: Locale.nullable().optional().openapi({ description: 'null clears it.' }),
    category_id: Id('category').nullable().optional().openapi({ description: 'null clears it.' }),
    tags: z
      .array(Tag)
      .max(MAX_TAGS, `must have at most ${MAX_TAGS} tags`)
      .transform((tags) => [...new Set(tags)])
      .optional()
      .openapi({ description: `The whole set (up to ${MAX_TAGS}); \`[]\` clears it.` }),
    visibility: Visibility.optional(),
  })
  .openapi('DocumentPatch');

export const DocumentListQuerySchema = z.object({
  status: listParam(z.enum(documentStatus.enumValues))
    .optional()
    .openapi({
      description: `Documents in any of these states; at most ${MAX_FILTER_VALUES} values.`,
      example: 'stored',
    }),
  type: listParam(z.enum(Object.values(DOCUMENT_TYPES) as [string, ...string[]]))
    .optional()
    .openapi({
      description: `Documents of any of these media types; at most ${MAX_FILTER_VALUES} values.`,
      example: 'application/pdf',
    }),
  category: listParam(Id('category'))
    .optional()
    .openapi({
      description: `Documents in any of these categories (\`cat_…\`); at most ${MAX_FILTER_VALUES} values.`,
    }),
  tags: listParam(Tag)
    .optional()
    .openapi({
      description: `Documents carrying any of these tags (\`tags=a,b\`); at most ${MAX_FILTER_VALUES} values, each at most ${CONTENT_LIMITS.tag} characters.`,
      example: 'finance',
    }),
  locale: Locale.optional().openapi({ description: 'Documents in exactly this locale.' }),
  visibility: Visibility.optional(),
  q: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(200, 'must be at most 200 characters')
    .optional()
    .openapi({
      description: 'Documents whose title or file name contains this text (case-insensitive).',
    }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .openapi({ description: 'Documents per page (1 to 100).', example: 20 }),
  cursor: z
    .string()
    .max(512)
    .optional()
    .openapi({ description: "The previous page's `next_cursor`." }),
});

export const ETAG_HEADER = z.object({
  ETag: z.string().openapi({
    description: 'The document as it now is; send it as `If-Match` to change only this state.',
    example: `"${exampleId('document')}.v1.m3x9k2a1"`,
  }),
});

export type DocumentRow = typeof documents.$inferSelect;

/**
 * A document's strong ETag: its id, its metadata version, and when it last changed (processing
 * changes a document without a new version, and a revalidation must see it).
 */
export const documentEtag = (row: Pick<DocumentRow, 'id' | 'version' | 'updatedAt'>) =>
  `"${row.id}.v${row.version}.${row.updatedAt.getTime().toString(36)}"`;

/**
 * Whether an `If-Match` entity tag names the document's current metadata: its id and version,
 * whatever processing did since (processing never touches what `PATCH` changes). The tag of the
 * version alone (`"<id>.v<n>"`) matches too.
 */
export const etagMatchesVersion = (tag: string, row: Pick<DocumentRow, 'id' | 'version'>) => {
  const base = `"${row.id}.v${row.version}`;
  return tag === `${base}"` || (tag.startsWith(`${base}.`) && tag.endsWith('"'));
};

/** A document as the API shows it. */
export function documentView(row: DocumentRow): DocumentView {
  return DocumentSchema.parse({
    id: row.id,
    title: row.title,
    locale: row.locale,
    category_id: row.categoryId,
    tags: row.tags,
    visibility: row.visibility,
    uploaded_by: row.uploadedBy,
    file_name: row.fileName,
    content_type: row.contentType,
    size_bytes: row.sizeBytes,
    sha256: row.sha256,
    status: row.status,
    failure_reason: row.failureReason,
    operation_id: row.operationId,
    language: row.language,
    page_count: row.pageCount,
    chunk_count: row.chunkCount,
    processed_at: row.processedAt?.toISOString() ?? null,
    enrichment: row.enrichment,
    text_url: `/v1/documents/${row.id}/text`,
    version: row.version,
    original_url: `/v1/documents/${row.id}/original`,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  });
}

/** The 404 for a document the caller cannot see (absent, another organisation's, or private). */
export function documentNotFound(): AppError {
  return new AppError({ code: 'NOT_FOUND', message: 'There is no such document.' });
}

/**
 * The document `id` of the caller's organisation if the caller may see it, else a 404 (a private
 * document of someone else is as absent as one that does not exist).
 */
export async function visibleDocument(
  services: Pick<Services, 'db'>,
  principal: Principal,
  id: string,
): Promise<DocumentRow> {
  const [row] = await services.db
    .select()
    .from(documents)
    .where(and(eq(documents.id, id), eq(documents.orgId, principal.orgId)))
    .limit(1);
  if (!row || !canSeeDocument(principal, row)) throw documentNotFound();
  return row;
}

/** A 422 naming `path` when `categoryId` is not a live category of the organisation. */
export async function checkCategory(
  services: Pick<Services, 'db'>,
  orgId: string,
  categoryId: string | null | undefined,
  path: string,
): Promise<void> {
  if (categoryId === null || categoryId === undefined) return;
  const [row] = await services.db
    .select({ id: categories.id, deletedAt: categories.deletedAt })
    .from(categories)
    .where(and(eq(categories.orgId, orgId), eq(categories.id, categoryId)))
    .limit(1);
  if (!row || row.deletedAt !== null) {
    throw new AppError({
      code: 'UNPROCESSABLE',
      message: `${path}: there is no such category in the organisation`,
      errors: [{ path, message: 'there is no such category in the organisation' }],
    });
  }
}
