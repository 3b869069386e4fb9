import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import type { Schema } from 'hono';
import { webhookEndpoints } from '../../../../shared/db/schema/webhooks.ts';
import { secretKeys } from '../../../../shared/env.ts';
import { openSecret, sealSecret } from '../../../../shared/secret-box.ts';
import { generateSourceSecret } from '../../../../shared/webhook-sources/signature.ts';
import { PREVIOUS_SECRET_CONTEXT, SECRET_CONTEXT } from '../../../../shared/webhooks/delivery.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import {
  DEFAULT_GRACE_SECONDS,
  EndpointIdParamsSchema,
  endpointNotFound,
  endpointView,
  RotateEndpointSecretSchema,
  WebhookEndpointWithSecretSchema,
} from './schema.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/webhooks/endpoints/{id}/rotate-secret',
  tags: ['webhooks'],
  summary: "Rotate a webhook endpoint's secret",
  description:
    'Makes a new signing secret (generated, or one of your own), shown in this response only. ' +
    'For `grace_seconds` (default 86400, one day; at most 604800; 0 ends it at once) every ' +
    'attempt carries two signatures, by the new secret and by the previous one, so the ' +
    'receiver verifies with either while it switches. Audited as ' +
    '`webhook_endpoint.rotate_secret`. Needs `webhooks:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('webhooks:manage')] as const,
  request: {
    params: EndpointIdParamsSchema,
    body: {
      required: false,
      content: { 'application/json': { schema: RotateEndpointSecretSchema } },
    },
  },
  responses: {
    200: {
      description: 'The endpoint, with its new secret (shown once).',
      content: { 'application/json': { schema: WebhookEndpointWithSecretSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'UNSUPPORTED_MEDIA_TYPE',
      'RATE_LIMITED',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerWebhookEndpointsRotateSecret<S extends Schema>(
  app: OpenAPIHono<AppBindings, S>,
) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id } = c.req.valid('param');
    const body = c.req.valid('json') ?? {};
    const { db } = c.var.services;
    const keys = secretKeys(c.var.env);
    const where = and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.orgId, orgId));
    const [current] = await db.select().from(webhookEndpoints).where(where).limit(1);
    if (!current) throw endpointNotFound();
    const secret = body.secret ?? generateSourceSecret();
    const graceSeconds = body.grace_seconds ?? DEFAULT_GRACE_SECONDS;
    let previous: string | null = null;
    if (graceSeconds > 0) {
      const { plaintext } = await openSecret(keys, current.secretCiphertext, SECRET_CONTEXT(id));
      previous = await sealSecret(keys, plaintext, PREVIOUS_SECRET_CONTEXT(id));
    }
    const now = new Date();
    const [row] = await db
      .update(webhookEndpoints)
      .set({
        secretCiphertext: await sealSecret(keys, secret, SECRET_CONTEXT(id)),
        previousSecretCiphertext: previous,
        previousSecretExpiresAt: previous ? new Date(now.getTime() + graceSeconds * 1000) : null,
        updatedAt: now,
      })
      .where(where)
      .returning();
    if (!row) throw endpointNotFound();
    audit(c, {
      action: 'webhook_endpoint.rotate_secret',
      targetType: 'webhook_endpoint',
      targetId: id,
      data: { grace_seconds: graceSeconds, secret_supplied: body.secret !== undefined },
    });
    return c.json(WebhookEndpointWithSecretSchema.parse({ ...endpointView(row), secret }), 200);
  });
}
