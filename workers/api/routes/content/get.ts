import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { readContentEnrichment } from '../../../../shared/enrichment/content.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { contentResponse, READ_RETRY_AFTER_SECONDS, readContent } from '../../content-read.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { ContentDetailSchema, ContentIdParamsSchema, ContentReadQuerySchema } from './schema.ts';

/** The headers of a content read (200 and 304). */
export const READ_HEADERS = z.object({
  ETag: z.string().openapi({
    description:
      'The item, its version and the locale served (and the version of its `enrichment`, when ' +
      'it has one); send it as `If-None-Match`.',
    example: '"cnt_01jd5x3k7yf0v9r2m4q6s8t1wz.v3.en"',
  }),
  'Content-Language': z.string().openapi({
    description: 'The locale served, or every locale when the read named none.',
    example: 'en',
  }),
  Vary: z.string().openapi({ example: 'Accept-Language' }),
  'Server-Timing': z.string().openapi({
    description: 'Includes `cache;desc="<tier>"`: memory, kv, redis or postgres.',
    example: 'cache;desc="memory"',
  }),
  'Sift-Stale': z
    .string()
    .optional()
    .openapi({
      description:
        'Present (`true`) when Postgres could not be reached and the last-known copy in the ' +
        'cache answered: it may lag the latest write.',
      example: 'true',
    }),
});

/** The route description's part shared by both content reads. */
export const READ_DESCRIPTION =
  'The translation served is `?locale=`, else the best of `Accept-Language`, following the ' +
  "fallback chain (parents, another variant of the language, the item's default locale, any); " +
  'without either, every translation. Served from the nearest cache tier holding the current ' +
  'version (`Server-Timing: cache;desc=…`). `If-None-Match` with the `ETag` answers `304`. When ' +
  'Postgres is down the last-known cached copy answers with `Sift-Stale: true`; with none, ' +
  `\`503\` with \`Retry-After: ${READ_RETRY_AFTER_SECONDS}\`. Needs \`content:read\`.`;

/** The answers of both single-item reads (by id and by slug). */
export const READ_RESPONSES = {
  200: {
    description: 'The item.',
    headers: READ_HEADERS,
    content: { 'application/json': { schema: ContentDetailSchema } },
  },
  304: {
    description: 'Not modified: `If-None-Match` names the current ETag.',
    headers: READ_HEADERS,
  },
  ...problemResponses(
    'VALIDATION_FAILED',
    'UNAUTHORIZED',
    'FORBIDDEN',
    'NOT_FOUND',
    'SERVICE_UNAVAILABLE',
    ...COMMON_PROBLEMS,
  ),
};

export const route = createRoute({
  method: 'get',
  path: '/v1/content/{id}',
  tags: ['content'],
  summary: 'Get a content item',
  description: `A content item of the caller's organisation by id. ${READ_DESCRIPTION}`,
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:read')] as const,
  request: { params: ContentIdParamsSchema, query: ContentReadQuerySchema },
  responses: READ_RESPONSES,
});

/** The 404 for an item that does not exist (or is deleted) in the caller's organisation. */
export function contentNotFound(): AppError {
  return new AppError({ code: 'NOT_FOUND', message: 'There is no such content item.' });
}

export function registerContentGet<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id } = c.req.valid('param');
    const { locale } = c.req.valid('query');
    const [read, enriched] = await Promise.all([
      readContent(c.var.services, orgId, id),
      readContentEnrichment(c.var.services, orgId, id),
    ]);
    if (!read) throw contentNotFound();
    const answer = contentResponse(c, read, locale, enriched ? `e${enriched.version}` : undefined);
    if (answer.status === 304) return c.body(null, 304);
    const enrichment = enriched?.enrichment ?? null;
    return c.json(ContentDetailSchema.parse({ ...answer.resource, enrichment }), 200);
  });
}
