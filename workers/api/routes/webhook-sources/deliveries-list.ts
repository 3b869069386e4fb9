import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, desc, eq, type SQL } from 'drizzle-orm';
import type { Schema } from 'hono';
import { webhookSourceDeliveries, webhookSources } from '../../../../shared/db/schema/webhooks.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { afterCursor, type Keyset, page, sortKey } from '../../pagination.ts';
import {
  DeliveryPageSchema,
  deliveryView,
  ListDeliveriesQuerySchema,
  SourceIdParamsSchema,
  sourceNotFound,
} from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/webhooks/sources/{id}/deliveries',
  tags: ['webhook-sources'],
  summary: "List an inbound webhook source's deliveries",
  description:
    'The delivery log, newest first, a page at a time (cursor paging; `status` filters): each ' +
    'delivery received, its upstream delivery id, what became of it (`accepted`, `applied`, ' +
    '`duplicate`, `refused`, `unmapped`, `failed`), why, and the content and operation it made. ' +
    'For a feed: an entry per item written (`applied`), refused (`unmapped`) or not taken by the ' +
    'write path (`failed`), `event_type` `feed.item`, and one per failed poll (`failed`, ' +
    '`event_type` `feed.poll`); unchanged items and `304`s log nothing. Kept 30 days. Needs ' +
    '`settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('settings:manage')] as const,
  request: { params: SourceIdParamsSchema, query: ListDeliveriesQuerySchema },
  responses: {
    200: {
      description: 'A page of deliveries.',
      content: { 'application/json': { schema: DeliveryPageSchema } },
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

const KEYSET: Keyset = { time: webhookSourceDeliveries.receivedAt, id: webhookSourceDeliveries.id };

export function registerWebhookSourcesDeliveriesList<S extends Schema>(
  app: OpenAPIHono<AppBindings, S>,
) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id } = c.req.valid('param');
    const query = c.req.valid('query');
    const { db } = c.var.services;
    const [source] = await db
      .select({ id: webhookSources.id })
      .from(webhookSources)
      .where(and(eq(webhookSources.id, id), eq(webhookSources.orgId, orgId)))
      .limit(1);
    if (!source) throw sourceNotFound();
    const conditions: SQL[] = [
      eq(webhookSourceDeliveries.orgId, orgId),
      eq(webhookSourceDeliveries.sourceId, id),
    ];
    if (query.status) conditions.push(eq(webhookSourceDeliveries.status, query.status));
    const after = afterCursor(KEYSET, query.cursor);
    if (after) conditions.push(after);
    const rows = await db
      .select({ row: webhookSourceDeliveries, sortKey: sortKey(KEYSET) })
      .from(webhookSourceDeliveries)
      .where(and(...conditions))
      .orderBy(desc(webhookSourceDeliveries.receivedAt), desc(webhookSourceDeliveries.id))
      .limit(query.limit + 1);
    const { items, next_cursor } = page(rows, query.limit, (r) => ({ t: r.sortKey, id: r.row.id }));
    return c.json(
      DeliveryPageSchema.parse({ items: items.map((r) => deliveryView(r.row)), next_cursor }),
      200,
    );
  });
}
