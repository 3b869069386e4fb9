import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { ReplaceContent } from '../../../../shared/content/schema.ts';
import type { AppBindings } from '../../app.ts';
import { commitContent } from '../../content-write.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { acceptedOrUnchanged, IfMatchHeaderSchema, WRITE_RESPONSES } from './accepted.ts';
import { replaceChange } from './plan.ts';
import { ContentIdParamsSchema } from './schema.ts';

export const route = createRoute({
  method: 'put',
  path: '/v1/content/{id}',
  tags: ['content'],
  summary: 'Replace a content item',
  description:
    "A full update: the body is the item's content as for a create (fields left out take their " +
    'defaults; translations left out are removed). A translation that keeps its locale keeps its ' +
    'slug unless the body gives one. Status changes only through workflow actions. Editing an ' +
    'approved, published or archived item, or its schedule, needs `content:publish`. `If-Match` ' +
    'makes it conditional (`412` when stale). Answers `202` with the new version; a body ' +
    'equal to the item as it is makes none: `200` with the item and `operation: null`. Needs ' +
    '`content:write`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:write')] as const,
  request: {
    params: ContentIdParamsSchema,
    headers: IfMatchHeaderSchema,
    body: { required: true, content: { 'application/json': { schema: ReplaceContent } } },
  },
  responses: WRITE_RESPONSES,
});

export function registerContentReplace<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    const ifMatch = c.req.valid('header')['if-match'];
    const [result] = await commitContent(c, [replaceChange(c, id, ifMatch, input)]);
    return acceptedOrUnchanged(c, result);
  });
}
