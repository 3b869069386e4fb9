import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { ERRORS } from '../../../../shared/errors.ts';
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
    {
      name: 'auth',
      description: 'Sign-up, login, token refresh, sessions and the signing keys (JWKS).',
    },
    { name: 'members', description: "An organisation's members and their roles." },
    { name: 'invitations', description: 'Invitations into an organisation, with a role.' },
    { name: 'keys', description: 'API keys: create, list, roll, revoke.' },
    { name: 'audit', description: "The organisation's audit log." },
    { name: 'admin', description: 'Platform administration (super admins): allow and deny lists.' },
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

/**
 * What every `/v1` route can answer besides its own responses, because middleware in front of
 * all of them does it: 401 for credentials that are present but invalid, 403 from the deny list,
 * 429 from the rate limiter. Added to each `/v1` operation that does not list them itself.
 */
const V1_PROBLEMS = Object.fromEntries(
  (['UNAUTHORIZED', 'FORBIDDEN', 'RATE_LIMITED'] as const).map((code) => [
    String(ERRORS[code].status),
    {
      description: ERRORS[code].title,
      content: {
        'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
      },
    },
  ]),
);

type Operation = { responses?: Record<string, unknown> };

function withV1Problems(document: Record<string, unknown>): Record<string, unknown> {
  const paths = (document.paths ?? {}) as Record<string, Record<string, Operation>>;
  for (const [path, operations] of Object.entries(paths)) {
    if (!path.startsWith('/v1/')) continue;
    for (const operation of Object.values(operations)) {
      operation.responses ??= {};
      for (const [status, response] of Object.entries(V1_PROBLEMS)) {
        operation.responses[status] ??= response;
      }
    }
  }
  return document;
}

/** Serves the document of `app` itself, generated once per isolate (routes do not change). */
export function registerDocsOpenapi<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  let document: Record<string, unknown> | undefined;
  return app.openapi(route, (c) => {
    document ??= withV1Problems(
      app.getOpenAPI31Document(DOCUMENT_CONFIG) as unknown as Record<string, unknown>,
    );
    return c.json(document, 200);
  });
}
