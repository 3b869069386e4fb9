import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import type { Schema } from 'hono';
import { webhookSources } from '../../../../shared/db/schema/webhooks.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { claimFeed, pollFeed } from '../../feed-poll.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { requestIngestContext } from '../../webhook-ingest.ts';
import { FeedPollResultSchema, SourceIdParamsSchema, sourceNotFound } from './schema.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/webhooks/sources/{id}/poll',
  tags: ['webhook-sources'],
  summary: 'Poll a feed source now',
  description:
    'Polls a `feed` source at once, due or not, exactly as the `poll-feeds` cron does (a ' +
    'conditional GET; its items written as the source; the poll state and back-off recorded), ' +
    'and answers what happened: `ok` with the items created, updated, unchanged, refused and ' +
    'failed, `not_modified` (`304`, nothing written) or `failed` with the reason. A failed poll ' +
    'is still a `200` (the feed failed, not the request), and counts towards the back-off like ' +
    'any other. `409` for a source that is not a feed, is disabled, or is being polled now. ' +
    'Audited as `webhook_source.poll`. Needs `settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('settings:manage')] as const,
  request: { params: SourceIdParamsSchema },
  responses: {
    200: {
      description: 'The poll’s outcome.',
      content: { 'application/json': { schema: FeedPollResultSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'CONFLICT',
      'RATE_LIMITED',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerWebhookSourcesPoll<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id } = c.req.valid('param');
    const { db } = c.var.services;
    const now = new Date();
    const source = await claimFeed(db, orgId, id, now);
    if (!source) {
      const [row] = await db
        .select()
        .from(webhookSources)
        .where(and(eq(webhookSources.id, id), eq(webhookSources.orgId, orgId)))
        .limit(1);
      if (!row) throw sourceNotFound();
      const message =
        row.kind !== 'feed'
          ? 'Only a feed source is polled; this one is pushed to.'
          : row.disabledAt !== null
            ? 'The feed source is disabled: enable it to poll it.'
            : 'The feed is being polled now; its outcome will be on the source.';
      throw new AppError({ code: 'CONFLICT', message });
    }
    const result = await pollFeed(requestIngestContext(c), source, now);
    audit(c, {
      action: 'webhook_source.poll',
      targetType: 'webhook_source',
      targetId: id,
      data: { status: result.status, status_code: result.status_code, items: result.items },
    });
    return c.json(FeedPollResultSchema.parse(result), 200);
  });
}
