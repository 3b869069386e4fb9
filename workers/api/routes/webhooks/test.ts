import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { webhookDeliveries } from '../../../../shared/db/schema/webhooks.ts';
import { AppError } from '../../../../shared/errors.ts';
import { newId } from '../../../../shared/ids.ts';
import { scheduleAttempts } from '../../../../shared/webhooks/delivery.ts';
import { TEST_EVENT } from '../../../../shared/webhooks/events.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import {
  deliveryView,
  EndpointIdParamsSchema,
  requireEnabledEndpoint,
  TestEventSchema,
  WebhookDeliverySchema,
} from './schema.ts';

/** Largest `data` a test event echoes, as JSON. */
const MAX_ECHO_BYTES = 4_096;

export const route = createRoute({
  method: 'post',
  path: '/v1/webhooks/endpoints/{id}/test',
  tags: ['webhooks'],
  summary: 'Send a test event to a webhook endpoint',
  description:
    'Sends a `webhook.test` event to this endpoint only, whatever it subscribes to, through ' +
    'the same signed, retried delivery as any event: the answer is the delivery, to follow ' +
    'with `GET …/deliveries/{delivery_id}`. `data` (at most 4 KB) is echoed in the event. The ' +
    'endpoint must be enabled. Audited as `webhook_endpoint.test`. Needs `webhooks:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('webhooks:manage')] as const,
  request: {
    params: EndpointIdParamsSchema,
    body: { required: false, content: { 'application/json': { schema: TestEventSchema } } },
  },
  responses: {
    202: {
      description: 'The delivery, pending: its first attempt is scheduled.',
      content: { 'application/json': { schema: WebhookDeliverySchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'CONFLICT',
      'UNSUPPORTED_MEDIA_TYPE',
      'RATE_LIMITED',
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerWebhookEndpointsTest<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id } = c.req.valid('param');
    const body = c.req.valid('json') ?? {};
    if (body.data && new TextEncoder().encode(JSON.stringify(body.data)).length > MAX_ECHO_BYTES) {
      const message = `must be at most ${MAX_ECHO_BYTES} bytes as JSON`;
      throw new AppError({
        code: 'VALIDATION_FAILED',
        message: `body.data: ${message}`,
        errors: [{ path: 'body.data', message }],
      });
    }
    const { db } = c.var.services;
    await requireEnabledEndpoint(db, orgId, id, 'send a test event');
    const now = new Date();
    const eventId = newId('event');
    const [row] = await db
      .insert(webhookDeliveries)
      .values({
        id: newId('delivery'),
        orgId,
        endpointId: id,
        eventType: TEST_EVENT,
        eventId,
        body: JSON.stringify({
          id: eventId,
          type: TEST_EVENT,
          timestamp: now.toISOString(),
          data: { endpoint_id: id, ...(body.data ? { echo: body.data } : {}) },
        }),
        nextAttemptAt: now,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    // Should QStash refuse, the sweeper hands the attempt over once it is overdue.
    await scheduleAttempts(c.var.services, [
      { orgId, deliveryId: row!.id, attempt: 1, delayMs: 0 },
    ]).catch((error: unknown) => {
      c.var.logger.warn('test event not scheduled; the sweeper will', { error });
    });
    audit(c, {
      action: 'webhook_endpoint.test',
      targetType: 'webhook_endpoint',
      targetId: id,
      data: { delivery_id: row!.id },
    });
    c.header('Location', `/v1/webhooks/endpoints/${id}/deliveries/${row!.id}`);
    return c.json(WebhookDeliverySchema.parse(deliveryView(row!)), 202);
  });
}
