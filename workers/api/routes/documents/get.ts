import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { noneMatch } from '../../content-read.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import {
  DocumentIdParamsSchema,
  DocumentSchema,
  documentEtag,
  documentView,
  ETAG_HEADER,
  visibleDocument,
} from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/documents/{id}',
  tags: ['documents'],
  summary: 'Get a document',
  description:
    "A document's metadata and processing status, with its `ETag` (`If-None-Match` with it " +
    'answers `304`). A private document of another member is a `404` unless the caller is an ' +
    'owner or admin. Needs `documents:read`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('documents:read')] as const,
  request: { params: DocumentIdParamsSchema },
  responses: {
    200: {
      description: 'The document.',
      headers: ETAG_HEADER,
      content: { 'application/json': { schema: DocumentSchema } },
    },
    304: {
      description: 'Not modified: `If-None-Match` names the current ETag.',
      headers: ETAG_HEADER,
    },
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

export function registerDocumentsGet<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    const row = await visibleDocument(c.var.services, c.var.principal!, id);
    const etag = documentEtag(row);
    c.header('ETag', etag);
    if (noneMatch(c.req.header('If-None-Match'), etag)) return c.body(null, 304);
    return c.json(documentView(row), 200);
  });
}
