import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { CreateContent } from '../../../../shared/content/schema.ts';
import type { AppBindings } from '../../app.ts';
import { commitContent } from '../../content-write.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { IdempotencyKeyHeaderSchema, idempotent } from '../../middleware/idempotency.ts';
import { ACCEPTED_RESPONSES, accepted } from './accepted.ts';
import { createChange } from './plan.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/content',
  tags: ['content'],
  summary: 'Create a content item',
  description:
    'Creates a draft with one or more translations keyed by BCP 47 locale. A translation ' +
    'without a `slug` gets one from its title (Arabic and Latin scripts), unique in the ' +
    'organisation and locale (`-2`, `-3`, … when taken); a given slug is stored lower-cased ' +
    '(slugs are case-insensitive), and one that is taken is a `409`. `metadata` numbers must be ' +
    'finite (`1e400` is a `400` naming the field). Answers `202`: the item at ' +
    'version 1 is readable at once, and the operation reports when Postgres has it. Setting ' +
    '`publish_at`/`unpublish_at` needs `content:publish`. With an `Idempotency-Key`, a retry ' +
    'within 24 h gets this same answer instead of a second item. Needs `content:write`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:write'), idempotent()] as const,
  request: {
    headers: IdempotencyKeyHeaderSchema,
    body: { required: true, content: { 'application/json': { schema: CreateContent } } },
  },
  responses: ACCEPTED_RESPONSES,
});

export function registerContentCreate<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const input = c.req.valid('json');
    const [result] = await commitContent(c, [createChange(c, input)]);
    return accepted(c, result);
  });
}
