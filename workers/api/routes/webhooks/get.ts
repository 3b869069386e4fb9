import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import type { Schema } from 'hono';
import { webhookEndpoints } from '../../../../shared/db/schema/webhooks.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import {
  EndpointIdParamsSchema,
  endpointNotFound,
  endpointView,
  WebhookEndpointSchema,
} from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/webhooks/endpoints/{id}',
  tags: ['webhooks'],
  summary: 'Get a webhook endpoint',
  description: 'One endpoint and its health; never its secret. Needs `webhooks:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('webhooks:manage')] as const,
  request: { params: EndpointIdParamsSchema },
  responses: {
    200: {
      description: 'The endpoint.',
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

export function registerWebhookEndpointsGet<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id } = c.req.valid('param');
    const [row] = await c.var.services.db
      .select()
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.orgId, orgId)))
      .limit(1);
    if (!row) throw endpointNotFound();
    return c.json(endpointView(row), 200);
  });
}
