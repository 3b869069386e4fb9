import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, desc, eq, type SQL } from 'drizzle-orm';
import type { Schema } from 'hono';
import { webhookDeliveries, webhookEndpoints } from '../../../../shared/db/schema/webhooks.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { afterCursor, type Keyset, page, sortKey } from '../../pagination.ts';
import {
  deliveryView,
  EndpointIdParamsSchema,
  endpointNotFound,
  ListDeliveriesQuerySchema,
  WebhookDeliveryPageSchema,
} from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/webhooks/endpoints/{id}/deliveries',
  tags: ['webhooks'],
  summary: "List a webhook endpoint's deliveries",
  description:
    'Every event sent (or being sent) to the endpoint, newest first, a page at a time (cursor ' +
    'paging; `status` and `event_type` filter): its status, attempts so far, the last status ' +
    'code or error and when the next attempt is due. Each attempt is in ' +
    '`GET …/deliveries/{delivery_id}`. Needs `webhooks:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('webhooks:manage')] as const,
  request: { params: EndpointIdParamsSchema, query: ListDeliveriesQuerySchema },
  responses: {
    200: {
      description: 'A page of deliveries.',
      content: { 'application/json': { schema: WebhookDeliveryPageSchema } },
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

const KEYSET: Keyset = { time: webhookDeliveries.createdAt, id: webhookDeliveries.id };

export function registerWebhookDeliveriesList<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id } = c.req.valid('param');
    const query = c.req.valid('query');
    const { db } = c.var.services;
    const [endpoint] = await db
      .select({ id: webhookEndpoints.id })
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.orgId, orgId)))
      .limit(1);
    if (!endpoint) throw endpointNotFound();
    const conditions: SQL[] = [
      eq(webhookDeliveries.orgId, orgId),
      eq(webhookDeliveries.endpointId, id),
    ];
    if (query.status) conditions.push(eq(webhookDeliveries.status, query.status));
    if (query.event_type) conditions.push(eq(webhookDeliveries.eventType, query.event_type));
    const after = afterCursor(KEYSET, query.cursor);
    if (after) conditions.push(after);
    const rows = await db
      .select({ row: webhookDeliveries, sortKey: sortKey(KEYSET) })
      .from(webhookDeliveries)
      .where(and(...conditions))
      .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
      .limit(query.limit + 1);
    const { items, next_cursor } = page(rows, query.limit, (r) => ({ t: r.sortKey, id: r.row.id }));
    return c.json(
      WebhookDeliveryPageSchema.parse({
        items: items.map((r) => deliveryView(r.row)),
        next_cursor,
      }),
      200,
    );
  });
}
