import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, asc, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import type { Schema } from 'hono';
import { webhookDeliveries } from '../../../../shared/db/schema/webhooks.ts';
import { AppError } from '../../../../shared/errors.ts';
import { scheduleAttempts } from '../../../../shared/webhooks/delivery.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import {
  EndpointIdParamsSchema,
  MAX_RECOVER,
  RECOVER_WINDOW_DAYS,
  RecoverResultSchema,
  RecoverSchema,
  requireEnabledEndpoint,
} from './schema.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/webhooks/endpoints/{id}/recover',
  tags: ['webhooks'],
  summary: 'Send again the failed deliveries of a period',
  description:
    'After an outage of the receiver: every `failed` delivery of the endpoint created in ' +
    `[\`since\`, \`until\`) (at most ${RECOVER_WINDOW_DAYS} days back) is sent again like a ` +
    `replay, oldest first, at most ${MAX_RECOVER} per call (\`next_since\` continues). The ` +
    'endpoint must be enabled. Audited as `webhook_endpoint.recover`. Needs `webhooks:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('webhooks:manage')] as const,
  request: {
    params: EndpointIdParamsSchema,
    body: { required: true, content: { 'application/json': { schema: RecoverSchema } } },
  },
  responses: {
    202: {
      description: 'How many deliveries are being sent again.',
      content: { 'application/json': { schema: RecoverResultSchema } },
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

const fieldError = (path: string, message: string) =>
  new AppError({
    code: 'VALIDATION_FAILED',
    message: `${path}: ${message}`,
    errors: [{ path, message }],
  });

export function registerWebhookEndpointsRecover<S extends Schema>(
  app: OpenAPIHono<AppBindings, S>,
) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const now = Date.now();
    const since = new Date(body.since);
    const until = body.until ? new Date(body.until) : new Date(now);
    if (since.getTime() < now - RECOVER_WINDOW_DAYS * 86_400_000)
      throw fieldError('body.since', `must be within the last ${RECOVER_WINDOW_DAYS} days`);
    if (until <= since) throw fieldError('body.until', 'must be after since');
    const { db } = c.var.services;
    await requireEnabledEndpoint(db, orgId, id, 'send deliveries again');
    const failed = await db
      .select({ id: webhookDeliveries.id, createdAt: webhookDeliveries.createdAt })
      .from(webhookDeliveries)
      .where(
        and(
          eq(webhookDeliveries.orgId, orgId),
          eq(webhookDeliveries.endpointId, id),
          eq(webhookDeliveries.status, 'failed'),
          gte(webhookDeliveries.createdAt, since),
          lt(webhookDeliveries.createdAt, until),
        ),
      )
      .orderBy(asc(webhookDeliveries.createdAt), asc(webhookDeliveries.id))
      .limit(MAX_RECOVER + 1);
    const batch = failed.slice(0, MAX_RECOVER);
    const replayed =
      batch.length === 0
        ? []
        : await db
            .update(webhookDeliveries)
            .set({
              status: 'pending',
              scheduleBase: sql`${webhookDeliveries.attempts}`,
              nextAttemptAt: new Date(now),
              qstashMessageId: null,
              updatedAt: new Date(now),
            })
            .where(
              and(
                eq(webhookDeliveries.orgId, orgId),
                inArray(
                  webhookDeliveries.id,
                  batch.map((d) => d.id),
                ),
                eq(webhookDeliveries.status, 'failed'),
              ),
            )
            .returning({ id: webhookDeliveries.id, attempts: webhookDeliveries.attempts });
    // Should QStash refuse, the sweeper hands the attempts over once they are overdue.
    await scheduleAttempts(
      c.var.services,
      replayed.map((d) => ({ orgId, deliveryId: d.id, attempt: d.attempts + 1, delayMs: 0 })),
    ).catch((error: unknown) => {
      c.var.logger.warn('recovered deliveries not scheduled; the sweeper will', { error });
    });
    // The next call starts at the first one left out (same creation times sort by id, so a
    // continuation may send one of them again only if it failed again).
    const next = failed.length > MAX_RECOVER ? failed[MAX_RECOVER]!.createdAt.toISOString() : null;
    audit(c, {
      action: 'webhook_endpoint.recover',
      targetType: 'webhook_endpoint',
      targetId: id,
      data: { since: since.toISOString(), until: until.toISOString(), replayed: replayed.length },
    });
    return c.json(RecoverResultSchema.parse({ replayed: replayed.length, next_since: next }), 202);
  });
}
