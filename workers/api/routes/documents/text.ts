import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses, z } from '../../openapi.ts';
import { DocumentIdParamsSchema, visibleDocument } from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/documents/{id}/text',
  tags: ['documents'],
  summary: "Read a document's extracted text",
  description:
    'The text processing extracted from the original (its blocks in reading order, separated ' +
    'by a blank line: the text chunk offsets refer to), as UTF-8 `text/plain`, with its ' +
    "SHA-256 as its `ETag`. `409` with the document's `status` when " +
    'there is no text yet (not extracted, or its processing failed). The same visibility as ' +
    '`GET /v1/documents/{id}`. Needs `documents:read`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('documents:read')] as const,
  request: { params: DocumentIdParamsSchema },
  responses: {
    200: {
      description: 'The extracted text.',
      headers: z.object({ ETag: z.string().openapi({ example: '"9f86d081884c7d65"' }) }),
      content: { 'text/plain': { schema: z.string() } },
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

export function registerDocumentsText<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    const row = await visibleDocument(c.var.services, c.var.principal!, id);
    if (!row.textKey || !row.textSha256) {
      throw new AppError({
        code: 'CONFLICT',
        message: `The document has no extracted text (it is ${row.status}).`,
        extensions: { status: row.status },
      });
    }
    const object = await c.env.FILES.get(row.textKey);
    if (!object) {
      c.var.logger.error('document text missing from storage', { document_id: row.id });
      throw new AppError({ code: 'INTERNAL', message: "The document's text could not be read." });
    }
    // At most 5,000,000 characters (the extraction cap): read whole.
    return c.text(await object.text(), 200, {
      ETag: `"${row.textSha256}"`,
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'private, no-store',
    });
  });
}
