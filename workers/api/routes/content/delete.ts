import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { principalId } from '../../../../shared/auth/permissions.ts';
import { nextSnapshot } from '../../../../shared/content/compose.ts';
import type { AppBindings } from '../../app.ts';
import { commitContent } from '../../content-write.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { accepted, IfMatchHeaderSchema, WRITE_RESPONSES } from './accepted.ts';
import { ContentIdParamsSchema } from './schema.ts';
import { notDeleted } from './update.ts';

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
  responses: WRITE_RESPONSES,
});

export function registerContentDelete<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    const actorId = principalId(c.var.principal!);
    const [result] = await commitContent(c, [
      {
        id,
        action: 'delete',
        audit: 'content.delete',
        create: false,
        ifMatch: c.req.valid('header')['if-match'],
        plan: async (current) => {
          const now = new Date();
          return nextSnapshot(
            notDeleted(current!),
            { deleted_at: now.toISOString() },
            { actorId, now },
          );
        },
      },
    ]);
    return accepted(c, result);
  });
}
