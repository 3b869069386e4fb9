import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { TransitionRequest } from '../../../../shared/content/schema.ts';
import type { AppBindings } from '../../app.ts';
import { commitContent } from '../../content-write.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { acceptedOrUnchanged, IfMatchHeaderSchema, WRITE_RESPONSES } from './accepted.ts';
import { transitionChange } from './plan.ts';
import { ContentIdParamsSchema } from './schema.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/content/{id}/transitions',
  tags: ['content'],
  summary: 'Move a content item through the workflow',
  description:
    'One workflow action: `submit` (draft → in_review; `content:write`), `request_changes` ' +
    '(in_review or approved → draft), `approve` (in_review → approved), `publish` (approved → ' +
    'published, optional `unpublish_at`), `schedule` (approved with `publish_at` in the ' +
    'future: the cron publishes it), `unpublish` (published → approved), `archive` (→ archived; ' +
    'these need `content:publish`) and `restore` (archived → draft; `content:delete`). An action ' +
    "that cannot start from the item's status is a `409` whose `allowed` lists those that can. " +
    'Audited as `content.<action>`. Answers `202` with the new version; an action that ' +
    'changes nothing (a `schedule` to the time already set) makes none: `200` with the item ' +
    'as it is and `operation: null`, not audited.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:read')] as const,
  request: {
    params: ContentIdParamsSchema,
    headers: IfMatchHeaderSchema,
    body: { required: true, content: { 'application/json': { schema: TransitionRequest } } },
  },
  responses: WRITE_RESPONSES,
});

export function registerContentTransition<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    const request = c.req.valid('json');
    const [result] = await commitContent(c, [
      transitionChange(c, id, c.req.valid('header')['if-match'], request),
    ]);
    return acceptedOrUnchanged(c, result);
  });
}
