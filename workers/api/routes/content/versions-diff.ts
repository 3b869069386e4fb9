import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { diffSnapshots } from '../../../../shared/content/diff.ts';
import { ContentDiffResource } from '../../../../shared/content/schema.ts';
import { INT4_MAX } from '../../../../shared/db/integers.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { ContentIdParamsSchema } from './schema.ts';
import {
  readVersions,
  StoredVersionNumber,
  versionNotFound,
  versionsCacheControl,
} from './versions-get.ts';

export const ContentChangeSchema = z
  .object(ContentDiffResource.shape.changes.element.shape)
  .openapi('ContentChange', {
    description:
      'One field that differs: a top-level field (`status`, `tags`), a translation field ' +
      '(`translations.ar.title`), a whole translation added or removed (`translations.fr`) or ' +
      'a metadata value by its JSON path (`metadata.seo.keywords`). An absent side is null.',
    example: {
      path: 'translations.en.title',
      kind: 'changed',
      before: 'Hello',
      after: 'Hello, world',
    },
  });

export const ContentDiffSchema = z
  .object({ ...ContentDiffResource.shape, changes: z.array(ContentChangeSchema) })
  .openapi('ContentDiff', {
    description:
      'What changed from version `from` to version `to`, field by field, in a stable order ' +
      '(top-level fields, translations by locale, metadata by path); bookkeeping (version, ' +
      'who and when) is left out. Equal versions give no changes.',
  });

/** Required version numbers in the query; see `VersionParam` in ./versions-get.ts for `.meta()`. */
const versionQuery = (name: 'from' | 'to', example: number) =>
  StoredVersionNumber.meta({
    param: { name, in: 'query' },
    description: `A version number of the item, 1 to ${INT4_MAX}.`,
    example,
  });

export const ContentDiffQuerySchema = z.object({
  from: versionQuery('from', 2),
  to: versionQuery('to', 5),
});

export const route = createRoute({
  method: 'get',
  path: '/v1/content/{id}/diff',
  tags: ['content'],
  summary: 'Compare two versions of a content item',
  description:
    'The per-field differences between versions `from` and `to` of an item (either may be the ' +
    'older; a deleted item included). A `404` names the version that does not exist. Needs ' +
    '`content:read`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:read')] as const,
  request: { params: ContentIdParamsSchema, query: ContentDiffQuerySchema },
  responses: {
    200: {
      description: 'The differences.',
      headers: z.object({
        'Cache-Control': z.string().openapi({ example: 'private, max-age=31536000, immutable' }),
      }),
      content: { 'application/json': { schema: ContentDiffSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerContentVersionsDiff<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    const { from, to } = c.req.valid('query');
    const found = await readVersions(c, id, [from, to]);
    const before = found.get(from);
    const after = found.get(to);
    if (!before) throw versionNotFound(id, from, 'query.from');
    if (!after) throw versionNotFound(id, to, 'query.to');
    const body = ContentDiffResource.parse({
      id,
      from,
      to,
      changes: diffSnapshots(before.snapshot, after.snapshot),
    });
    return c.json(body, 200, { 'Cache-Control': versionsCacheControl([before, after]) });
  });
}
