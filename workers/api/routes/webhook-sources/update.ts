import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import type { Schema } from 'hono';
import { webhookSources } from '../../../../shared/db/schema/webhooks.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import {
  SourceIdParamsSchema,
  sourceNotFound,
  sourceView,
  UpdateWebhookSourceSchema,
  WebhookSourceSchema,
} from './schema.ts';

export const route = createRoute({
  method: 'patch',
  path: '/v1/webhooks/sources/{id}',
  tags: ['webhook-sources'],
  summary: 'Update an inbound webhook source',
  description:
    'Changes the name, the mapping (replaced whole, validated as at creation), the `hmac` ' +
    'settings or `enabled` (a disabled source refuses every delivery). The kind cannot change; ' +
    'the secret changes by rotation. Audited as `webhook_source.update` with what changed. ' +
    'Needs `settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('settings:manage')] as const,
  request: {
    params: SourceIdParamsSchema,
    body: {
      required: true,
      content: { 'application/json': { schema: UpdateWebhookSourceSchema } },
    },
  },
  responses: {
    200: {
      description: 'The source as it now is.',
      content: { 'application/json': { schema: WebhookSourceSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'UNSUPPORTED_MEDIA_TYPE',
      'UNPROCESSABLE',
      'RATE_LIMITED',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerWebhookSourcesUpdate<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const { db } = c.var.services;
    const where = and(eq(webhookSources.id, id), eq(webhookSources.orgId, orgId));
    const [current] = await db.select().from(webhookSources).where(where).limit(1);
    if (!current) throw sourceNotFound();
    if (body.hmac && current.kind !== 'hmac') {
      throw new AppError({
        code: 'UNPROCESSABLE',
        message: 'body.hmac: is only for the hmac kind',
        errors: [{ path: 'body.hmac', message: 'is only for the hmac kind' }],
      });
    }
    const config = {
      ...(current.config as Record<string, unknown>),
      ...(body.mapping ? { mapping: body.mapping } : {}),
      ...(body.hmac ? { hmac: body.hmac } : {}),
    };
    const enabledNow = current.disabledAt === null;
    const [row] = await db
      .update(webhookSources)
      .set({
        ...(body.name !== undefined ? { name: body.name } : {}),
        config,
        ...(body.enabled === undefined || body.enabled === enabledNow
          ? {}
          : { disabledAt: body.enabled ? null : new Date() }),
      })
      .where(where)
      .returning();
    if (!row) throw sourceNotFound();
    audit(c, {
      action: 'webhook_source.update',
      targetType: 'webhook_source',
      targetId: id,
      data: {
        changed: Object.keys(body).sort(),
        ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
      },
    });
    return c.json(sourceView(row), 200);
  });
}
