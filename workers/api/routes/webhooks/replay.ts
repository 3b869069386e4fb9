import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, eq, ne, sql } from 'drizzle-orm';
import type { Schema } from 'hono';
import { webhookDeliveries } from '../../../../shared/db/schema/webhooks.ts';
import { AppError } from '../../../../shared/errors.ts';
import { scheduleAttempts } from '../../../../shared/webhooks/delivery.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import {
  DeliveryParamsSchema,
  deliveryNotFound,
  deliveryView,
  requireEnabledEndpoint,
  WebhookDeliverySchema,
} from './schema.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/webhooks/endpoints/{id}/deliveries/{delivery_id}/replay',
  tags: ['webhooks'],
  summary: 'Send a webhook delivery again',
  description:
    'Sends a delivered or failed delivery again, with the same body and `webhook-id` (so a ' +
    'receiver that kept it knows it), signed afresh, with the whole retry schedule ahead of ' +
    'it; its earlier attempts stay in its log. A delivery still pending is being attempted ' +
    'already (409), as is one of a disabled endpoint (409: enable it first). Audited as ' +
    '`webhook_endpoint.replay`. Needs `webhooks:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('webhooks:manage')] as const,
  request: { params: DeliveryParamsSchema },
  responses: {
    202: {
      description: 'The delivery, pending again: its next attempt is scheduled.',
      content: { 'application/json': { schema: WebhookDeliverySchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'CONFLICT',
      'RATE_LIMITED',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerWebhookDeliveriesReplay<S extends Schema>(
  app: OpenAPIHono<AppBindings, S>,
) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id, delivery_id } = c.req.valid('param');
    const { db } = c.var.services;
    await requireEnabledEndpoint(db, orgId, id, 'send deliveries again');
    const where = and(
      eq(webhookDeliveries.orgId, orgId),
      eq(webhookDeliveries.endpointId, id),
      eq(webhookDeliveries.id, delivery_id),
    );
    const now = new Date();
    const [row] = await db
      .update(webhookDeliveries)
      .set({
        status: 'pending',
        scheduleBase: sql`${webhookDeliveries.attempts}`,
        nextAttemptAt: now,
        deliveredAt: null,
        qstashMessageId: null,
        updatedAt: now,
      })
      .where(and(where, ne(webhookDeliveries.status, 'pending')))
      .returning();
    if (!row) {
      const [exists] = await db
        .select({ id: webhookDeliveries.id })
        .from(webhookDeliveries)
        .where(where)
        .limit(1);
      if (!exists) throw deliveryNotFound();
      throw new AppError({
        code: 'CONFLICT',
        message: 'The delivery is pending: it is being attempted already.',
      });
    }
    // Should QStash refuse, the sweeper hands the attempt over once it is overdue.
    await scheduleAttempts(c.var.services, [
      { orgId, deliveryId: row.id, attempt: row.attempts + 1, delayMs: 0 },
    ]).catch((error: unknown) => {
      c.var.logger.warn('replay not scheduled; the sweeper will', { error });
    });
    audit(c, {
      action: 'webhook_endpoint.replay',
      targetType: 'webhook_endpoint',
      targetId: id,
      data: { delivery_id: row.id, event_id: row.eventId },
    });
    return c.json(WebhookDeliverySchema.parse(deliveryView(row)), 202);
  });
}
