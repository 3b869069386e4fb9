import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import type { Schema } from 'hono';
import { webhookEndpoints } from '../../../../shared/db/schema/webhooks.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { EndpointIdParamsSchema, endpointNotFound } from './schema.ts';

export const route = createRoute({
  method: 'delete',
  path: '/v1/webhooks/endpoints/{id}',
  tags: ['webhooks'],
  summary: 'Delete a webhook endpoint',
  description:
    'Removes the endpoint, its sealed secrets, its deliveries and their attempts; attempts ' +
    'already scheduled find nothing to send. Audited as `webhook_endpoint.delete`. Needs ' +
    '`webhooks:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('webhooks:manage')] as const,
  request: { params: EndpointIdParamsSchema },
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

export function registerWebhookEndpointsDelete<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id } = c.req.valid('param');
    const [row] = await c.var.services.db
      .delete(webhookEndpoints)
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.orgId, orgId)))
      .returning({ id: webhookEndpoints.id, url: webhookEndpoints.url });
    if (!row) throw endpointNotFound();
    audit(c, {
      action: 'webhook_endpoint.delete',
      targetType: 'webhook_endpoint',
      targetId: row.id,
      data: { url: row.url },
    });
    return c.body(null, 204);
  });
}
