import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import type { Schema } from 'hono';
import { apiKeys } from '../../../../shared/db/schema/auth.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { ApiKeySchema, apiKeyView, KeyIdParamsSchema, keyNotFound } from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/keys/{id}',
  tags: ['keys'],
  summary: 'Get an API key',
  description: 'One key of the organisation, without its secret or hash.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('keys:manage', { liveSession: true })] as const,
  request: { params: KeyIdParamsSchema },
  responses: {
    200: { description: 'The key.', content: { 'application/json': { schema: ApiKeySchema } } },
    ...problemResponses('UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', ...COMMON_PROBLEMS),
  },
});

export function registerKeysGet<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id } = c.req.valid('param');
    const [row] = await c.var.services.db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.id, id), eq(apiKeys.orgId, orgId)))
      .limit(1);
    if (!row) throw keyNotFound();
    return c.json(apiKeyView(row), 200);
  });
}
