import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import type { Schema } from 'hono';
import { documents } from '../../../../shared/db/schema/documents.ts';
import { removeDocumentDerivatives } from '../../../../shared/documents/remove.ts';
import { deleteDocumentFiles } from '../../../../shared/documents/storage.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { DocumentIdParamsSchema, documentNotFound, visibleDocument } from './schema.ts';

export const route = createRoute({
  method: 'delete',
  path: '/v1/documents/{id}',
  tags: ['documents'],
  summary: 'Delete a document',
  description:
    'Deletes the document for good: every file under its storage prefix (the original and its ' +
    'extracted text), then what was derived from it, then its row. There is no undelete; the ' +
    'same bytes may be uploaded again afterwards. Audited as `document.delete` with what it ' +
    'was. Needs `documents:write`, and the document must be visible to the caller.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('documents:write')] as const,
  request: { params: DocumentIdParamsSchema },
  responses: {
    204: { description: 'Deleted.' },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'RATE_LIMITED',
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerDocumentsDelete<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const principal = c.var.principal!;
    const { id } = c.req.valid('param');
    const { services } = c.var;
    const row = await visibleDocument(services, principal, id);
    // Files first: a failure leaves the row, so the delete can be retried and nothing is orphaned
    // in storage without a row pointing at it.
    await deleteDocumentFiles(c.env.FILES, row.orgId, row.id);
    await removeDocumentDerivatives(services, row.orgId, row.id);
    const [deleted] = await services.db
      .delete(documents)
      .where(and(eq(documents.id, row.id), eq(documents.orgId, row.orgId)))
      .returning({ id: documents.id });
    if (!deleted) throw documentNotFound();
    audit(c, {
      action: 'document.delete',
      targetType: 'document',
      targetId: row.id,
      data: {
        title: row.title,
        file_name: row.fileName,
        content_type: row.contentType,
        size_bytes: row.sizeBytes,
        sha256: row.sha256,
        visibility: row.visibility,
      },
    });
    return c.body(null, 204);
  });
}
