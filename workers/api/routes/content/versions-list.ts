import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { and, desc, eq, lt } from 'drizzle-orm';
import type { Schema } from 'hono';
import { ContentVersionSummary } from '../../../../shared/content/schema.ts';
import { INT4_MAX } from '../../../../shared/db/integers.ts';
import { contentVersions } from '../../../../shared/db/schema/content.ts';
import { AppError } from '../../../../shared/errors.ts';
import { decodeCursor } from '../../../../shared/pagination.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { page } from '../../pagination.ts';
import { contentNotFound } from './get.ts';
import { ContentIdParamsSchema } from './schema.ts';
import { ContentVersionSummarySchema, contentHead, fromPostgres } from './versions-get.ts';

export const ContentVersionPageSchema = z
  .object({
    items: z.array(ContentVersionSummarySchema),
    next_cursor: z.string().nullable().openapi({
      description: 'Pass as `cursor` for the next (older) page; null on the last page.',
    }),
  })
  .openapi('ContentVersionPage');

export const ContentVersionListQuerySchema = z.object({
  limit: z.coerce
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(100, 'must be at most 100')
    .default(20)
    .openapi({ example: 20 }),
  cursor: z.string().max(512, 'must be a cursor from a previous page').optional(),
});

export const route = createRoute({
  method: 'get',
  path: '/v1/content/{id}/versions',
  tags: ['content'],
  summary: "List a content item's versions",
  description:
    'Every version of an item (a deleted item included), newest first, as recorded in Postgres: ' +
    'a version accepted a moment ago appears once its operation is `applied` (usually within a ' +
    'second or two). Page with `cursor`. Needs `content:read`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:read')] as const,
  request: { params: ContentIdParamsSchema, query: ContentVersionListQuerySchema },
  responses: {
    200: {
      description: 'A page of versions.',
      content: { 'application/json': { schema: ContentVersionPageSchema } },
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

const CURSOR_RULE = "must be a cursor from a previous page of this item's versions";

/**
 * The version a cursor continues after. Versions are ordered by number, not time (a version's
 * time is when the edge accepted it, which need not follow the numbering across isolates), so
 * the cursor's id part is `<content id>.v<version>`: one from another item's history (or another
 * list) is a 400 naming `query.cursor`.
 */
function cursorVersion(id: string, cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  const match = decodeCursor(cursor)?.id.match(/^(.+)\.v([1-9][0-9]{0,9})$/);
  if (!match || match[1] !== id || Number(match[2]) > INT4_MAX) {
    throw new AppError({
      code: 'VALIDATION_FAILED',
      message: `query.cursor: ${CURSOR_RULE}`,
      errors: [{ path: 'query.cursor', message: CURSOR_RULE }],
    });
  }
  return Number(match[2]);
}

export function registerContentVersionsList<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    const { limit, cursor } = c.req.valid('query');
    const { orgId } = c.var.principal!;
    const before = cursorVersion(id, cursor);
    const rows = await fromPostgres(c, () =>
      c.var.services.db
        .select({
          version: contentVersions.version,
          status: contentVersions.status,
          operationId: contentVersions.operationId,
          createdBy: contentVersions.createdBy,
          createdAt: contentVersions.createdAt,
        })
        .from(contentVersions)
        .where(
          and(
            eq(contentVersions.orgId, orgId),
            eq(contentVersions.contentId, id),
            before === undefined ? undefined : lt(contentVersions.version, before),
          ),
        )
        .orderBy(desc(contentVersions.version))
        .limit(limit + 1),
    );
    if (rows.length === 0) {
      // No history (yet): an item of the organisation that is just being created (only in the
      // ledger) or was imported lists nothing; any other id is not there, cursor or not.
      const head = await contentHead(c, id);
      if (!head.ledger && !head.postgres) throw contentNotFound();
    }
    const { items, next_cursor } = page(rows, limit, (r) => ({
      t: r.createdAt.toISOString(),
      id: `${id}.v${r.version}`,
    }));
    return c.json(
      ContentVersionPageSchema.parse({
        items: items.map((r) =>
          ContentVersionSummary.parse({
            version: r.version,
            status: r.status,
            operation_id: r.operationId,
            created_by: r.createdBy,
            created_at: r.createdAt.toISOString(),
          }),
        ),
        next_cursor,
      }),
      200,
    );
  });
}
