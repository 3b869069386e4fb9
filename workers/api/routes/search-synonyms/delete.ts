import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import type { Schema } from 'hono';
import { synonyms } from '../../../../shared/db/schema/search.ts';
import { bumpSynonymsVersion } from '../../../../shared/search/synonyms.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { SynonymIdParamsSchema, synonymAuditData, synonymNotFound } from './schema.ts';

export const route = createRoute({
  method: 'delete',
  path: '/v1/search/synonyms/{id}',
  tags: ['search'],
  summary: 'Delete a synonym set',
  description:
    'Removes the set; search stops using it from the next query on. Audited as ' +
    '`search.synonyms.delete` with what the set was. Needs `settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('settings:manage')] as const,
  request: { params: SynonymIdParamsSchema },
  responses: {
    204: { description: 'Deleted.' },
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

export function registerSearchSynonymsDelete<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id } = c.req.valid('param');
    const [row] = await c.var.services.db
      .delete(synonyms)
      .where(and(eq(synonyms.id, id), eq(synonyms.orgId, orgId)))
      .returning();
    if (!row) throw synonymNotFound();
    await bumpSynonymsVersion(c.var.services, orgId);
    audit(c, {
      action: 'search.synonyms.delete',
      targetType: 'synonym',
      targetId: row.id,
      data: synonymAuditData(row),
    });
    return c.body(null, 204);
  });
}
