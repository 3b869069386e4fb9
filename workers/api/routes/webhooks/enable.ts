import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, eq, isNotNull } from 'drizzle-orm';
import type { Schema } from 'hono';
import { webhookEndpoints } from '../../../../shared/db/schema/webhooks.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import {
  EndpointIdParamsSchema,
  endpointNotFound,
  endpointView,
  WebhookEndpointSchema,
} from './schema.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/webhooks/endpoints/{id}/enable',
  tags: ['webhooks'],
  summary: 'Enable a webhook endpoint',
  description:
    'Starts deliveries again, whoever disabled it (a caller, a `410 Gone`, five days of ' +
    'failures), with a clean record: the failure count and `failing_since` are reset. ' +
    'Deliveries missed while disabled are not sent by this; `recover` sends the failed ones of ' +
    'a period. Enabling an enabled endpoint changes nothing. Audited as ' +
    '`webhook_endpoint.enable`. Needs `webhooks:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('webhooks:manage')] as const,
  request: { params: EndpointIdParamsSchema },
  responses: {
    200: {
      description: 'The endpoint as it now is.',
      content: { 'application/json': { schema: WebhookEndpointSchema } },
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

export function registerWebhookEndpointsEnable<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id } = c.req.valid('param');
    const { db } = c.var.services;
    const where = and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.orgId, orgId));
    const now = new Date();
    const [changed] = await db
      .update(webhookEndpoints)
      .set({
        disabledAt: null,
        disabledReason: null,
        failureCount: 0,
        failingSince: null,
        updatedAt: now,
      })
      .where(and(where, isNotNull(webhookEndpoints.disabledAt)))
      .returning();
    if (changed) {
      audit(c, {
        action: 'webhook_endpoint.enable',
        targetType: 'webhook_endpoint',
        targetId: id,
        data: { url: changed.url },
      });
      return c.json(endpointView(changed), 200);
    }
    const [row] = await db.select().from(webhookEndpoints).where(where).limit(1);
    if (!row) throw endpointNotFound();
    return c.json(endpointView(row), 200);
  });
}
