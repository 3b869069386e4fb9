import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, desc, eq, type SQL } from 'drizzle-orm';
import type { Schema } from 'hono';
import { webhookEndpoints } from '../../../../shared/db/schema/webhooks.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { afterCursor, type Keyset, page, sortKey } from '../../pagination.ts';
import { endpointView, ListEndpointsQuerySchema, WebhookEndpointPageSchema } from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/webhooks/endpoints',
  tags: ['webhooks'],
  summary: 'List webhook endpoints',
  description:
    "The organisation's endpoints, newest first, a page at a time (cursor paging), with their " +
    'health (failures since the last success, why one is disabled). Secrets are never listed. ' +
    'Needs `webhooks:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('webhooks:manage')] as const,
  request: { query: ListEndpointsQuerySchema },
  responses: {
    200: {
      description: 'A page of endpoints.',
      content: { 'application/json': { schema: WebhookEndpointPageSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'RATE_LIMITED',
      ...COMMON_PROBLEMS,
    ),
  },
});

const KEYSET: Keyset = { time: webhookEndpoints.createdAt, id: webhookEndpoints.id };

export function registerWebhookEndpointsList<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const query = c.req.valid('query');
    const conditions: SQL[] = [eq(webhookEndpoints.orgId, orgId)];
    const after = afterCursor(KEYSET, query.cursor);
    if (after) conditions.push(after);
    const rows = await c.var.services.db
      .select({ row: webhookEndpoints, sortKey: sortKey(KEYSET) })
      .from(webhookEndpoints)
      .where(and(...conditions))
      .orderBy(desc(webhookEndpoints.createdAt), desc(webhookEndpoints.id))
      .limit(query.limit + 1);
    const { items, next_cursor } = page(rows, query.limit, (r) => ({ t: r.sortKey, id: r.row.id }));
    return c.json(
      WebhookEndpointPageSchema.parse({
        items: items.map((r) => endpointView(r.row)),
        next_cursor,
      }),
      200,
    );
  });
}
