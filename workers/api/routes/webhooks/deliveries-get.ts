import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, asc, eq } from 'drizzle-orm';
import type { Schema } from 'hono';
import { webhookAttempts, webhookDeliveries } from '../../../../shared/db/schema/webhooks.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import {
  attemptView,
  DeliveryParamsSchema,
  deliveryNotFound,
  deliveryView,
  WebhookDeliveryDetailSchema,
} from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/webhooks/endpoints/{id}/deliveries/{delivery_id}',
  tags: ['webhooks'],
  summary: 'Get a webhook delivery and its attempts',
  description:
    'One delivery: the body it sends and every attempt made, with its time, URL, status code ' +
    '(or why none came), latency and the first 1 KB of the answer. Needs `webhooks:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('webhooks:manage')] as const,
  request: { params: DeliveryParamsSchema },
  responses: {
    200: {
      description: 'The delivery.',
      content: { 'application/json': { schema: WebhookDeliveryDetailSchema } },
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

export function registerWebhookDeliveriesGet<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id, delivery_id } = c.req.valid('param');
    const { db } = c.var.services;
    const [delivery] = await db
      .select()
      .from(webhookDeliveries)
      .where(
        and(
          eq(webhookDeliveries.orgId, orgId),
          eq(webhookDeliveries.endpointId, id),
          eq(webhookDeliveries.id, delivery_id),
        ),
      )
      .limit(1);
    if (!delivery) throw deliveryNotFound();
    const attempts = await db
      .select()
      .from(webhookAttempts)
      .where(and(eq(webhookAttempts.orgId, orgId), eq(webhookAttempts.deliveryId, delivery_id)))
      .orderBy(asc(webhookAttempts.attempt));
    return c.json(
      WebhookDeliveryDetailSchema.parse({
        ...deliveryView(delivery),
        payload: JSON.parse(delivery.body),
        attempt_log: attempts.map(attemptView),
      }),
      200,
    );
  });
}
