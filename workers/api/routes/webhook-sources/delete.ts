import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, eq, sql } from 'drizzle-orm';
import type { Schema } from 'hono';
import { content } from '../../../../shared/db/schema/content.ts';
import { webhookSources } from '../../../../shared/db/schema/webhooks.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { SourceIdParamsSchema, sourceNotFound } from './schema.ts';

export const route = createRoute({
  method: 'delete',
  path: '/v1/webhooks/sources/{id}',
  tags: ['webhook-sources'],
  summary: 'Delete an inbound webhook source',
  description:
    'Removes the source, its sealed secrets and its delivery log; deliveries to it are refused ' +
    'from now on (401). The content it created stays (its versions name the source as their ' +
    'actor; their `source_id` and `external_id` are cleared). Audited as ' +
    '`webhook_source.delete`. Needs `settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('settings:manage')] as const,
  request: { params: SourceIdParamsSchema },
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

export function registerWebhookSourcesDelete<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id } = c.req.valid('param');
    const { db } = c.var.services;
    // Its items stay, no longer linked to it (an external id means nothing without its source).
    await db
      .update(content)
      .set({ sourceId: null, externalId: null, updatedAt: sql`${content.updatedAt}` })
      .where(and(eq(content.orgId, orgId), eq(content.sourceId, id)));
    const [row] = await db
      .delete(webhookSources)
      .where(and(eq(webhookSources.id, id), eq(webhookSources.orgId, orgId)))
      .returning({ id: webhookSources.id, name: webhookSources.name, kind: webhookSources.kind });
    if (!row) throw sourceNotFound();
    audit(c, {
      action: 'webhook_source.delete',
      targetType: 'webhook_source',
      targetId: row.id,
      data: { name: row.name, kind: row.kind },
    });
    return c.body(null, 204);
  });
}
