import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import type { Schema } from 'hono';
import { principalId } from '../../../../shared/auth/permissions.ts';
import { sqlState } from '../../../../shared/db/errors.ts';
import { documents } from '../../../../shared/db/schema/documents.ts';
import { operations } from '../../../../shared/db/schema/operations.ts';
import { canSeeDocument } from '../../../../shared/documents/access.ts';
import { ACCEPTED_DOCUMENT_TYPES, DOCUMENT_TYPES } from '../../../../shared/documents/detect.ts';
import {
  DOCUMENT_PROCESS,
  type DocumentProcess,
  failUnqueuedProcessing,
  processingOperation,
} from '../../../../shared/documents/process.ts';
import {
  MAX_DOCUMENT_BYTES,
  originalKey,
  type StoreFailure,
  storeOriginal,
  unsupportedMessage,
} from '../../../../shared/documents/storage.ts';
import { AppError } from '../../../../shared/errors.ts';
import { newId } from '../../../../shared/ids.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses, z } from '../../openapi.ts';
import {
  checkCategory,
  DocumentSchema,
  DocumentUploadQuerySchema,
  documentEtag,
  documentView,
  ETAG_HEADER,
} from './schema.ts';

/** Seconds to wait before retrying an upload the job queue could not take. */
export const UPLOAD_RETRY_AFTER_SECONDS = 5;

const LIMIT = `${MAX_DOCUMENT_BYTES.toLocaleString('en-US')} bytes (50 MiB)`;

export const route = createRoute({
  method: 'post',
  path: '/v1/documents',
  tags: ['documents'],
  summary: 'Upload a document',
  description:
    'The request body is the file itself, streamed to storage (never held whole in memory); its ' +
    `metadata is in the query string. Up to ${LIMIT}: a larger \`Content-Length\` is refused at ` +
    'once, and a body without one is cut off with `413` as soon as it passes the limit; nothing ' +
    `is kept. The type is read from the bytes (${ACCEPTED_DOCUMENT_TYPES}); the request's ` +
    '`Content-Type` is only a hint between Markdown and plain text, and anything else is a ' +
    '`415` saying what the file is. An empty body is a `422`. The same bytes already stored in ' +
    'the organisation are a `409` naming that document (`document_id`, when the caller may see ' +
    'it). Answers `201` with the document, `status: stored`, and `operation_id`: its processing ' +
    '(extract, chunk, embed, enrich) is queued, and the operation (`/v1/operations/{id}`) shows ' +
    'its stages as `progress` until the document is `ready`, `failed` or `needs_ocr`. When the ' +
    `job queue refuses the processing, nothing is kept and the answer is \`503\` with ` +
    `\`Retry-After: ${UPLOAD_RETRY_AFTER_SECONDS}\`. Audited as \`document.create\`. Needs ` +
    '`documents:write`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('documents:write')] as const,
  request: {
    query: DocumentUploadQuerySchema,
    body: {
      required: true,
      description: 'The file, as raw bytes.',
      content: {
        'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) },
      },
    },
  },
  responses: {
    201: {
      description: 'The document, stored; its processing is queued (`operation_id`).',
      headers: ETAG_HEADER.extend({
        Location: z.string().openapi({ example: '/v1/documents/doc_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
      }),
      content: { 'application/json': { schema: DocumentSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'CONFLICT',
      'PAYLOAD_TOO_LARGE',
      'UNSUPPORTED_MEDIA_TYPE',
      'UNPROCESSABLE',
      'RATE_LIMITED',
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

function refusal(failure: StoreFailure): AppError {
  switch (failure.reason) {
    case 'empty':
      return new AppError({ code: 'UNPROCESSABLE', message: 'The file is empty (0 bytes).' });
    case 'too_large':
      return new AppError({
        code: 'PAYLOAD_TOO_LARGE',
        message: `The file is larger than the ${failure.limit.toLocaleString('en-US')} bytes (50 MiB) a document may have.`,
        extensions: { limit: failure.limit },
      });
    case 'unsupported':
      return new AppError({
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: unsupportedMessage(failure.found),
        extensions: { accept: Object.values(DOCUMENT_TYPES) },
      });
    case 'length_mismatch':
      return new AppError({
        code: 'BAD_REQUEST',
        message: `Content-Length said ${failure.declared} bytes but the body had ${failure.received}.`,
      });
  }
}

function duplicate(existing: { id: string } | undefined): AppError {
  return new AppError({
    code: 'CONFLICT',
    message: existing
      ? `The organisation already has this file (the same SHA-256): ${existing.id}.`
      : 'The organisation already has this file (the same SHA-256), in a private document of another member.',
    extensions: existing
      ? { reason: 'duplicate', document_id: existing.id }
      : { reason: 'duplicate', document_id: null },
    ...(existing ? { headers: { Location: `/v1/documents/${existing.id}` } } : {}),
  });
}

/** A `Content-Length` the client declared, when it is a plain decimal number. */
function declaredLength(header: string | undefined): number | undefined {
  if (header === undefined || !/^\d{1,16}$/.test(header.trim())) return undefined;
  return Number(header.trim());
}

export function registerDocumentsCreate<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const principal = c.var.principal!;
    const { orgId } = principal;
    const query = c.req.valid('query');
    const { services } = c.var;
    await checkCategory(services, orgId, query.category_id, 'query.category_id');
    const id = newId('document');
    const key = originalKey(orgId, id);
    const bucket = c.env.FILES;
    const stored = await storeOriginal(bucket, key, c.req.raw.body, {
      declaredLength: declaredLength(c.req.header('Content-Length')),
      fileName: query.file_name,
      declaredType: c.req.header('Content-Type'),
    });
    if (!stored.ok) throw refusal(stored.failure);
    const { value } = stored;

    const findExisting = async () => {
      const [existing] = await services.db
        .select({
          id: documents.id,
          visibility: documents.visibility,
          uploadedBy: documents.uploadedBy,
        })
        .from(documents)
        .where(and(eq(documents.orgId, orgId), eq(documents.sha256, value.sha256)))
        .limit(1);
      return existing;
    };
    const visible = (row: Awaited<ReturnType<typeof findExisting>>) =>
      row && canSeeDocument(principal, row) ? row : undefined;
    const operation = processingOperation(orgId, id, {
      createdBy: principalId(principal),
      requestId: c.var.requestId,
    });
    let row: typeof documents.$inferSelect;
    try {
      const existing = await findExisting();
      if (existing) throw duplicate(visible(existing));
      [row] = (await services.db
        .insert(documents)
        .values({
          id,
          orgId,
          title: query.title ?? query.file_name,
          locale: query.locale ?? null,
          categoryId: query.category_id ?? null,
          tags: query.tags ?? [],
          visibility: query.visibility,
          uploadedBy: principalId(principal),
          fileName: query.file_name,
          contentType: value.contentType,
          sizeBytes: value.sizeBytes,
          sha256: value.sha256,
          r2Key: key,
          operationId: operation.id,
        })
        .returning()) as [typeof documents.$inferSelect];
    } catch (error) {
      // No row, no file: whatever refused it (a duplicate, Postgres down), the original goes.
      await bucket.delete(key);
      // The same bytes uploaded at the same moment: the unique index let one of them in.
      if (sqlState(error) === '23505') throw duplicate(visible(await findExisting()));
      throw error;
    }
    // Its processing: the operation, then the message. If either fails the upload is undone
    // (row and file), so a document never waits for a processing nobody will run.
    const undo = async () => {
      await services.db
        .delete(documents)
        .where(and(eq(documents.id, id), eq(documents.orgId, orgId)));
      await bucket.delete(key);
    };
    try {
      await services.db.insert(operations).values(operation);
    } catch (error) {
      await undo().catch(() => undefined);
      throw error;
    }
    const message: DocumentProcess = {
      org_id: orgId,
      document_id: id,
      operation_id: operation.id,
    };
    try {
      await services.enqueue('jobs', DOCUMENT_PROCESS, message, { orgId });
    } catch (error) {
      await failUnqueuedProcessing(services, orgId, operation.id, c.var.requestId).catch(
        () => undefined,
      );
      await undo().catch((undoError: unknown) => {
        c.var.logger.error('an upload whose processing was not queued could not be undone', {
          document_id: id,
          error: undoError,
        });
      });
      throw new AppError({
        code: 'SERVICE_UNAVAILABLE',
        message: 'The document could not be queued for processing; nothing was kept. Retry later.',
        headers: { 'Retry-After': String(UPLOAD_RETRY_AFTER_SECONDS) },
        cause: error,
      });
    }
    audit(c, {
      action: 'document.create',
      targetType: 'document',
      targetId: row.id,
      data: {
        file_name: row.fileName,
        content_type: row.contentType,
        size_bytes: row.sizeBytes,
        sha256: row.sha256,
        visibility: row.visibility,
        operation_id: operation.id,
      },
    });
    return c.json(documentView(row), 201, {
      ETag: documentEtag(row),
      Location: `/v1/documents/${row.id}`,
    });
  });
}
