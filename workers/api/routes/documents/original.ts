import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { attachmentDisposition } from '../../../../shared/documents/disposition.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses, z } from '../../openapi.ts';
import { DocumentIdParamsSchema, visibleDocument } from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/documents/{id}/original',
  tags: ['documents'],
  summary: "Download a document's original",
  description:
    'The file exactly as uploaded, streamed from storage, with the detected `Content-Type`, its ' +
    '`Content-Length`, `Content-Disposition: attachment` carrying the file name (RFC 6266, with ' +
    'a UTF-8 `filename*`) and its SHA-256 as `Digest`-style `Repr-Digest` (RFC 9530). The same ' +
    'visibility as `GET /v1/documents/{id}`. Needs `documents:read`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('documents:read')] as const,
  request: { params: DocumentIdParamsSchema },
  responses: {
    200: {
      description: 'The original bytes.',
      headers: z.object({
        'Content-Disposition': z.string().openapi({
          example: `attachment; filename="risk-review.pdf"; filename*=UTF-8''risk-review.pdf`,
        }),
        'Repr-Digest': z
          .string()
          .openapi({ example: 'sha-256=:n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=:' }),
      }),
      content: {
        'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) },
      },
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

/** The SHA-256 (hex) as an RFC 9530 `Repr-Digest` value (base64 in a structured byte sequence). */
function reprDigest(sha256: string): string {
  const bytes = sha256.match(/../g)!.map((pair) => Number.parseInt(pair, 16));
  return `sha-256=:${btoa(String.fromCharCode(...bytes))}:`;
}

export function registerDocumentsOriginal<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    const row = await visibleDocument(c.var.services, c.var.principal!, id);
    const object = await c.env.FILES.get(row.r2Key);
    if (!object) {
      // The row says it is stored but the bucket has nothing: an inconsistency, not the caller's.
      c.var.logger.error('document original missing from storage', { document_id: row.id });
      throw new AppError({
        code: 'INTERNAL',
        message: "The document's original could not be read.",
      });
    }
    return c.body(object.body, 200, {
      'Content-Type': row.contentType,
      'Content-Length': String(object.size),
      'Content-Disposition': attachmentDisposition(row.fileName),
      'Repr-Digest': reprDigest(row.sha256),
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'private, no-store',
    });
  });
}
