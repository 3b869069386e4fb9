import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Schema } from 'hono';
import { principalId } from '../../../../shared/auth/permissions.ts';
import { documents } from '../../../../shared/db/schema/documents.ts';
import { operations } from '../../../../shared/db/schema/operations.ts';
import { canSeeDocument } from '../../../../shared/documents/access.ts';
import {
  DOCUMENT_PROCESS,
  type DocumentProcess,
  failUnqueuedProcessing,
  processingOperation,
  STALLED_PROCESSING_MS,
  stalledProcessing,
} from '../../../../shared/documents/process.ts';
import { AppError } from '../../../../shared/errors.ts';
import { exampleId } from '../../../../shared/ids.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses, z } from '../../openapi.ts';
import { UPLOAD_RETRY_AFTER_SECONDS } from './create.ts';
import { DocumentIdParamsSchema, documentNotFound } from './schema.ts';

export const DocumentReprocessAcceptedSchema = z
  .object({
    document_id: z.string().openapi({ example: exampleId('document') }),
    operation: z.object({
      id: z.string().openapi({ example: exampleId('operation') }),
      status: z.literal('queued'),
      url: z.string().openapi({ example: `/v1/operations/${exampleId('operation')}` }),
    }),
  })
  .openapi('DocumentReprocessAccepted');

export const route = createRoute({
  method: 'post',
  path: '/v1/documents/{id}/reprocess',
  tags: ['documents'],
  summary: 'Process a document again',
  description:
    "Runs every stage of the document's processing again from its original (extract, chunk, " +
    'embed, and enrich, even when the text did not change), as a new operation (`Location`) ' +
    "that becomes the document's `operation_id`. The document keeps what it has until the new " +
    'processing replaces it. `409` with `operation_id` while a processing of it is queued or ' +
    `running (one without progress for ${STALLED_PROCESSING_MS / 60_000} minutes is taken as ` +
    `dead and replaced). \`503\` with \`Retry-After: ${UPLOAD_RETRY_AFTER_SECONDS}\` when the ` +
    'job queue refuses it (nothing changes). Audited as `document.reprocess`. Needs ' +
    '`documents:write`, and the document must be visible to the caller.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('documents:write')] as const,
  request: { params: DocumentIdParamsSchema },
  responses: {
    202: {
      description: 'The processing is queued.',
      headers: z.object({ Location: z.string() }),
      content: { 'application/json': { schema: DocumentReprocessAcceptedSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'CONFLICT',
      'RATE_LIMITED',
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerDocumentsReprocess<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const principal = c.var.principal!;
    const { orgId } = principal;
    const { id } = c.req.valid('param');
    const { services } = c.var;
    const operation = processingOperation(orgId, id, {
      createdBy: principalId(principal),
      requestId: c.var.requestId,
    });
    const previous = await services.transaction(async (tx) => {
      const [row] = await tx
        .select()
        .from(documents)
        .where(and(eq(documents.id, id), eq(documents.orgId, orgId)))
        .for('update');
      if (!row || !canSeeDocument(principal, row)) throw documentNotFound();
      if (row.operationId) {
        const [running] = await tx
          .select({ status: operations.status, updatedAt: operations.updatedAt })
          .from(operations)
          .where(and(eq(operations.id, row.operationId), eq(operations.orgId, orgId)));
        const open = running && (running.status === 'queued' || running.status === 'running');
        if (open && Date.now() - running.updatedAt.getTime() <= STALLED_PROCESSING_MS) {
          throw new AppError({
            code: 'CONFLICT',
            message: 'The document is already being processed.',
            extensions: { operation_id: row.operationId },
            headers: { Location: `/v1/operations/${row.operationId}` },
          });
        }
        // A stalled one is replaced: it ends failed, naming what replaced it.
        if (open) {
          await tx
            .update(operations)
            .set(stalledProcessing(operation.id))
            .where(
              and(
                eq(operations.id, row.operationId),
                inArray(operations.status, ['queued', 'running']),
              ),
            );
        }
      }
      await tx.insert(operations).values(operation);
      await tx
        .update(documents)
        .set({ operationId: operation.id, updatedAt: sql`now()` })
        .where(eq(documents.id, row.id));
      return row.operationId;
    });
    const message: DocumentProcess = {
      org_id: orgId,
      document_id: id,
      operation_id: operation.id,
      reprocess: true,
    };
    try {
      await services.enqueue('jobs', DOCUMENT_PROCESS, message, { orgId });
    } catch (error) {
      // Nothing changes: the operation says it failed, the document points where it did.
      await failUnqueuedProcessing(services, orgId, operation.id, c.var.requestId).catch(
        () => undefined,
      );
      await services.db
        .update(documents)
        .set({ operationId: previous })
        .where(
          and(
            eq(documents.id, id),
            eq(documents.orgId, orgId),
            eq(documents.operationId, operation.id),
          ),
        )
        .catch(() => undefined);
      throw new AppError({
        code: 'SERVICE_UNAVAILABLE',
        message: 'The processing could not be queued; nothing changed. Retry later.',
        headers: { 'Retry-After': String(UPLOAD_RETRY_AFTER_SECONDS) },
        cause: error,
      });
    }
    const url = `/v1/operations/${operation.id}`;
    audit(c, {
      action: 'document.reprocess',
      targetType: 'document',
      targetId: id,
      data: { operation_id: operation.id },
    });
    return c.json(
      DocumentReprocessAcceptedSchema.parse({
        document_id: id,
        operation: { id: operation.id, status: 'queued', url },
      }),
      202,
      { Location: url },
    );
  });
}
