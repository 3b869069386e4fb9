import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, desc, eq, type SQL } from 'drizzle-orm';
import type { Schema } from 'hono';
import { webhookSources } from '../../../../shared/db/schema/webhooks.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { afterCursor, type Keyset, page, sortKey } from '../../pagination.ts';
import { ListSourcesQuerySchema, sourceView, WebhookSourcePageSchema } from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/webhooks/sources',
  tags: ['webhook-sources'],
  summary: 'List inbound webhook sources',
  description:
    "The organisation's sources, newest first, a page at a time (cursor paging). Secrets are " +
    'never listed. Needs `settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('settings:manage')] as const,
  request: { query: ListSourcesQuerySchema },
  responses: {
    200: {
      description: 'A page of sources.',
      content: { 'application/json': { schema: WebhookSourcePageSchema } },
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

const KEYSET: Keyset = { time: webhookSources.createdAt, id: webhookSources.id };

export function registerWebhookSourcesList<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const query = c.req.valid('query');
    const conditions: SQL[] = [eq(webhookSources.orgId, orgId)];
    const after = afterCursor(KEYSET, query.cursor);
    if (after) conditions.push(after);
    const rows = await c.var.services.db
      .select({ row: webhookSources, sortKey: sortKey(KEYSET) })
      .from(webhookSources)
      .where(and(...conditions))
      .orderBy(desc(webhookSources.createdAt), desc(webhookSources.id))
      .limit(query.limit + 1);
    const { items, next_cursor } = page(rows, query.limit, (r) => ({ t: r.sortKey, id: r.row.id }));
    return c.json(
      WebhookSourcePageSchema.parse({ items: items.map((r) => sourceView(r.row)), next_cursor }),
      200,
    );
  });
}
