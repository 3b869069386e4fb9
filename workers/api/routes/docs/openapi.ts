import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';

/** The document's fixed parts; paths and components come from the registered routes. */
export const DOCUMENT_CONFIG = {
  openapi: '3.1.0',
  info: {
    title: 'Sift API',
    version: '0.1.0',
    description:
      'Edge-first content intelligence: bilingual content, search, recommendations, trends and ' +
      'document intelligence. Errors are RFC 9457 problem+json documents with a stable `code` and ' +
      'the `request_id`; every response carries `X-Request-Id` and `traceparent`.',
  },
  tags: [
    { name: 'system', description: 'Liveness, readiness and problem types.' },
    { name: 'docs', description: 'This document and its reference UI.' },
  ],
};

export const route = createRoute({
  method: 'get',
  path: '/openapi.json',
  tags: ['docs'],
  summary: 'OpenAPI document',
  description: 'The OpenAPI 3.1 description of every route, generated from their zod schemas.',
  responses: {
    200: {
      description: 'The OpenAPI 3.1 document.',
      content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
    },
    ...problemResponses(...COMMON_PROBLEMS),
  },
});

/** Serves the document of `app` itself, generated once per isolate (routes do not change). */
export function registerDocsOpenapi<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  let document: Record<string, unknown> | undefined;
  return app.openapi(route, (c) => {
    document ??= app.getOpenAPI31Document(DOCUMENT_CONFIG) as unknown as Record<string, unknown>;
    return c.json(document, 200);
  });
}
