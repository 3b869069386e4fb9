import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
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
  requireDestination,
  UpdateWebhookEndpointSchema,
  WebhookEndpointSchema,
} from './schema.ts';

export const route = createRoute({
  method: 'patch',
  path: '/v1/webhooks/endpoints/{id}',
  tags: ['webhooks'],
  summary: 'Update a webhook endpoint',
  description:
    'Changes the URL (checked as at creation), the description (null clears it) or the event ' +
    'types (replaced whole). Deliveries already made keep their body; their next attempts go to ' +
    'the new URL. Enable and disable have their own routes; the secret changes by rotation. ' +
    'Audited as `webhook_endpoint.update` with what changed. Needs `webhooks:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('webhooks:manage')] as const,
  request: {
    params: EndpointIdParamsSchema,
    body: {
      required: true,
      content: { 'application/json': { schema: UpdateWebhookEndpointSchema } },
    },
  },
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
      'UNSUPPORTED_MEDIA_TYPE',
      'UNPROCESSABLE',
      'RATE_LIMITED',
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerWebhookEndpointsUpdate<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    if (body.url !== undefined) await requireDestination(c.var.env, body.url);
    const [row] = await c.var.services.db
      .update(webhookEndpoints)
      .set({
        ...(body.url !== undefined ? { url: body.url } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(body.event_types !== undefined ? { eventTypes: [...new Set(body.event_types)] } : {}),
        updatedAt: new Date(),
      })
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.orgId, orgId)))
      .returning();
    if (!row) throw endpointNotFound();
    audit(c, {
      action: 'webhook_endpoint.update',
      targetType: 'webhook_endpoint',
      targetId: id,
      data: {
        changed: Object.keys(body).sort(),
        ...(body.url !== undefined ? { url: body.url } : {}),
        ...(body.event_types !== undefined ? { event_types: row.eventTypes } : {}),
      },
    });
    return c.json(endpointView(row), 200);
  });
}
