import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { commitContent } from '../../content-write.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { ACCEPTED_RESPONSES, accepted, IfMatchHeaderSchema } from './accepted.ts';
import { deleteChange } from './plan.ts';
import { ContentIdParamsSchema } from './schema.ts';

export const route = createRoute({
  method: 'delete',
  path: '/v1/content/{id}',
  tags: ['content'],
  summary: 'Delete a content item',
  description:
    'A soft delete, as a new version with `deleted_at` set: the item disappears from reads, ' +
    'lists and search, its slugs are free again, and its history stays. `POST ' +
    '/v1/content/{id}/restore` brings it back. `If-Match` makes it conditional. Answers `202`. ' +
    'Needs `content:delete`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:delete')] as const,
  request: { params: ContentIdParamsSchema, headers: IfMatchHeaderSchema },
  responses: ACCEPTED_RESPONSES,
});

export function registerContentDelete<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    const ifMatch = c.req.valid('header')['if-match'];
    const [result] = await commitContent(c, [deleteChange(c, id, ifMatch)]);
    return accepted(c, result);
  });
}
