import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import type { Schema } from 'hono';
import { webhookSources } from '../../../../shared/db/schema/webhooks.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { SourceIdParamsSchema, sourceNotFound, sourceView, WebhookSourceSchema } from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/webhooks/sources/{id}',
  tags: ['webhook-sources'],
  summary: 'Get an inbound webhook source',
  description:
    'One source of the organisation, with its refusal counter (`failure_count`, ' +
    '`last_failure_at`, `last_failure_reason`), never its secret; a feed with its settings ' +
    '(`feed`) and poll state (`poll`: last outcome, status code, error, failures in a row, ' +
    'last and next poll, validators). Needs `settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('settings:manage')] as const,
  request: { params: SourceIdParamsSchema },
  responses: {
    200: {
      description: 'The source.',
      content: { 'application/json': { schema: WebhookSourceSchema } },
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

export function registerWebhookSourcesGet<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id } = c.req.valid('param');
    const [row] = await c.var.services.db
      .select()
      .from(webhookSources)
      .where(and(eq(webhookSources.id, id), eq(webhookSources.orgId, orgId)))
      .limit(1);
    if (!row) throw sourceNotFound();
    return c.json(sourceView(row), 200);
  });
}
