import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import type { Schema } from 'hono';
import { synonyms } from '../../../../shared/db/schema/search.ts';
import type { AppBindings } from '../../app.ts';
import { noneMatch } from '../../content-read.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import {
  ETAG_HEADER,
  SYNONYM_SELECTION,
  SynonymIdParamsSchema,
  SynonymSchema,
  synonymEtag,
  synonymNotFound,
  synonymView,
} from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/search/synonyms/{id}',
  tags: ['search'],
  summary: 'Get a synonym set',
  description:
    'One synonym set of the organisation, with its `ETag` (send it as `If-Match` to replace ' +
    'only this state; `If-None-Match` with it answers `304`). Needs `search`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('search')] as const,
  request: { params: SynonymIdParamsSchema },
  responses: {
    200: {
      description: 'The set.',
      headers: ETAG_HEADER,
      content: { 'application/json': { schema: SynonymSchema } },
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
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerSearchSynonymsGet<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id } = c.req.valid('param');
    const [row] = await c.var.services.db
      .select(SYNONYM_SELECTION)
      .from(synonyms)
      .where(and(eq(synonyms.id, id), eq(synonyms.orgId, orgId)))
      .limit(1);
    if (!row) throw synonymNotFound();
    const etag = synonymEtag(row);
    c.header('ETag', etag);
    if (noneMatch(c.req.header('If-None-Match'), etag)) return c.body(null, 304);
    return c.json(synonymView(row), 200);
  });
}
