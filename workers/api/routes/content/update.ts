import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { ContentPatch } from '../../../../shared/content/schema.ts';
import type { AppBindings } from '../../app.ts';
import { commitContent } from '../../content-write.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { acceptedOrUnchanged, IfMatchHeaderSchema, WRITE_RESPONSES } from './accepted.ts';
import { patchChange } from './plan.ts';
import { ContentIdParamsSchema } from './schema.ts';

export const route = createRoute({
  method: 'patch',
  path: '/v1/content/{id}',
  tags: ['content'],
  summary: 'Update a content item',
  description:
    'A partial update as a JSON merge patch (RFC 7396; `application/merge-patch+json` or ' +
    '`application/json`): members left out stay, `null` removes (a translation, a metadata key, ' +
    'the category, the schedule); metadata merges recursively, translations per locale and ' +
    'field. A title change keeps the slug unless the patch sets it (`null`: generate it again). ' +
    'The merged item is validated as a full update. `If-Match` makes it conditional (`412` when ' +
    'stale). Answers `202` with the new version; a patch that changes nothing (`{}`, or only ' +
    'values the item already has) makes none: `200` with the item as it is and `operation: ' +
    'null`. Needs `content:write` (and `content:publish` ' +
    'for reviewed items and schedules).',
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:write')] as const,
  request: {
    params: ContentIdParamsSchema,
    headers: IfMatchHeaderSchema,
    body: {
      required: true,
      content: {
        'application/merge-patch+json': { schema: ContentPatch },
        'application/json': { schema: ContentPatch },
      },
    },
  },
  responses: WRITE_RESPONSES,
});

export function registerContentUpdate<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    const patch = c.req.valid('json');
    const ifMatch = c.req.valid('header')['if-match'];
    const [result] = await commitContent(c, [patchChange(c, id, ifMatch, patch, 'body')]);
    return acceptedOrUnchanged(c, result);
  });
}
