import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import type { Schema } from 'hono';
import { webhookSources } from '../../../../shared/db/schema/webhooks.ts';
import { AppError } from '../../../../shared/errors.ts';
import { FeedSettings, nextPollAt } from '../../../../shared/feeds/settings.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import {
  requireFeedTargets,
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
  summary: 'Update an inbound webhook source or a feed source',
  description:
    'Changes the name, the mapping (replaced whole, validated as at creation), the `hmac` ' +
    'settings or `enabled` (a disabled source refuses every delivery; a disabled feed is not ' +
    'polled). For a feed, `feed` changes its settings (each given field replaces the old one; a ' +
    'new URL is checked as at creation, forgets the `ETag`, `Last-Modified` and failures, and is ' +
    'polled at once; a new interval reschedules the next poll). Enabling a feed makes it due at ' +
    'once. `mapping` and `hmac` are refused for a feed, `feed` for the others (`422`). The kind ' +
    'cannot change; the secret changes by rotation. Audited as `webhook_source.update` with what ' +
    'changed. Needs `settings:manage`.',
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
      'SERVICE_UNAVAILABLE',
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
    const refuse = (field: string, message: string) =>
      new AppError({
        code: 'UNPROCESSABLE',
        message: `body.${field}: ${message}`,
        errors: [{ path: `body.${field}`, message }],
      });
    const isFeed = current.kind === 'feed';
    if (body.hmac && current.kind !== 'hmac') throw refuse('hmac', 'is only for the hmac kind');
    if (body.mapping && isFeed) throw refuse('mapping', 'is not for the feed kind');
    if (body.feed && !isFeed) throw refuse('feed', 'is only for the feed kind');
    const now = new Date();
    const enabledNow = current.disabledAt === null;
    const enabling = body.enabled === true && !enabledNow;
    const config = { ...(current.config as Record<string, unknown>) };
    if (body.mapping) config.mapping = body.mapping;
    if (body.hmac) config.hmac = body.hmac;
    let poll: Partial<typeof webhookSources.$inferInsert> = {};
    if (body.feed) {
      await requireFeedTargets(c.var.env, db, orgId, body.feed);
      const before = FeedSettings.parse(config.feed);
      const after: FeedSettings = {
        url: body.feed.url ?? before.url,
        interval_minutes: body.feed.interval_minutes ?? before.interval_minutes,
        item_defaults: body.feed.item_defaults ?? before.item_defaults,
      };
      config.feed = after;
      if (after.url !== before.url) {
        // Another feed: what was learnt of the old one does not hold.
        poll = {
          feedEtag: null,
          feedLastModified: null,
          consecutiveFailures: 0,
          lastPollError: null,
          nextPollAt: now,
        };
      } else if (after.interval_minutes !== before.interval_minutes) {
        poll = {
          nextPollAt: nextPollAt(
            current.lastPolledAt ?? now,
            after.interval_minutes,
            current.consecutiveFailures,
          ),
        };
      }
    }
    if (enabling && isFeed) poll = { ...poll, nextPollAt: now };
    const [row] = await db
      .update(webhookSources)
      .set({
        ...(body.name !== undefined ? { name: body.name } : {}),
        config,
        ...poll,
        ...(body.enabled === undefined || body.enabled === enabledNow
          ? {}
          : { disabledAt: body.enabled ? null : now }),
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
