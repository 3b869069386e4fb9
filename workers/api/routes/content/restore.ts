import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { principalId } from '../../../../shared/auth/permissions.ts';
import { nextSnapshot } from '../../../../shared/content/compose.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { commitContent } from '../../content-write.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { ACCEPTED_RESPONSES, accepted, IfMatchHeaderSchema } from './accepted.ts';
import { ContentIdParamsSchema } from './schema.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/content/{id}/restore',
  tags: ['content'],
  summary: 'Restore a deleted content item',
  description:
    'Undoes a soft delete, as a new version with `deleted_at` cleared; the item comes back in ' +
    'the status it had. `409` when the item is not deleted, or when one of its slugs has since ' +
    'been taken by another item. Audited as `content.undelete`. Answers `202`. Needs ' +
    '`content:delete`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:delete')] as const,
  request: { params: ContentIdParamsSchema, headers: IfMatchHeaderSchema },
  responses: ACCEPTED_RESPONSES,
});

export function registerContentRestore<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    const actorId = principalId(c.var.principal!);
    const [result] = await commitContent(c, [
      {
        id,
        action: 'restore',
        audit: 'content.undelete',
        create: false,
        ifMatch: c.req.valid('header')['if-match'],
        plan: async (current) => {
          if (current!.deleted_at === null) {
            throw new AppError({
              code: 'CONFLICT',
              message: `${id} is not deleted; there is nothing to restore.`,
            });
          }
          return nextSnapshot(current!, { deleted_at: null }, { actorId, now: new Date() });
        },
      },
    ]);
    return accepted(c, result);
  });
}
