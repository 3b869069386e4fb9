import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { count, eq } from 'drizzle-orm';
import type { Schema } from 'hono';
import { principalId } from '../../../../shared/auth/permissions.ts';
import { webhookEndpoints } from '../../../../shared/db/schema/webhooks.ts';
import { secretKeys } from '../../../../shared/env.ts';
import { AppError } from '../../../../shared/errors.ts';
import { newId } from '../../../../shared/ids.ts';
import { sealSecret } from '../../../../shared/secret-box.ts';
import { generateSourceSecret } from '../../../../shared/webhook-sources/signature.ts';
import { SECRET_CONTEXT } from '../../../../shared/webhooks/delivery.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import {
  CreateWebhookEndpointSchema,
  endpointView,
  MAX_ENDPOINTS,
  requireDestination,
  WebhookEndpointWithSecretSchema,
} from './schema.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/webhooks/endpoints',
  tags: ['webhooks'],
  summary: 'Create a webhook endpoint',
  description:
    'Registers a URL that receives the organisation’s events of the types it subscribes to, ' +
    'each POSTed as JSON and signed per Standard Webhooks (README, "Receiving webhooks"). The ' +
    'signing secret (`whsec_`) is generated unless one is given; it is in this response only. ' +
    `At most ${MAX_ENDPOINTS} endpoints per organisation. Audited as ` +
    '`webhook_endpoint.create`. Needs `webhooks:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('webhooks:manage')] as const,
  request: {
    body: {
      required: true,
      content: { 'application/json': { schema: CreateWebhookEndpointSchema } },
    },
  },
  responses: {
    201: {
      description: 'The endpoint, with its secret (shown once).',
      content: { 'application/json': { schema: WebhookEndpointWithSecretSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'CONFLICT',
      'UNSUPPORTED_MEDIA_TYPE',
      'UNPROCESSABLE',
      'RATE_LIMITED',
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerWebhookEndpointsCreate<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const principal = c.var.principal!;
    const body = c.req.valid('json');
    await requireDestination(c.var.env, body.url);
    const { db } = c.var.services;
    const [existing] = await db
      .select({ n: count() })
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.orgId, principal.orgId));
    if ((existing?.n ?? 0) >= MAX_ENDPOINTS) {
      throw new AppError({
        code: 'CONFLICT',
        message: `The organisation has ${MAX_ENDPOINTS} webhook endpoints, the most it may have: delete one first.`,
      });
    }
    const secret = body.secret ?? generateSourceSecret();
    const id = newId('webhookEndpoint');
    const now = new Date();
    const [row] = await db
      .insert(webhookEndpoints)
      .values({
        id,
        orgId: principal.orgId,
        url: body.url,
        description: body.description ?? null,
        eventTypes: [...new Set(body.event_types)],
        secretCiphertext: await sealSecret(secretKeys(c.var.env), secret, SECRET_CONTEXT(id)),
        createdBy: principalId(principal),
        createdAt: now,
        updatedAt: now,
        ...(body.enabled ? {} : { disabledAt: now, disabledReason: 'manual' as const }),
      })
      .returning();
    const view = endpointView(row!);
    audit(c, {
      action: 'webhook_endpoint.create',
      targetType: 'webhook_endpoint',
      targetId: id,
      data: {
        url: view.url,
        event_types: view.event_types,
        enabled: view.enabled,
        secret_supplied: body.secret !== undefined,
      },
    });
    c.header('Location', `/v1/webhooks/endpoints/${id}`);
    return c.json(WebhookEndpointWithSecretSchema.parse({ ...view, secret }), 201);
  });
}
