import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, desc, eq, isNotNull, isNull, type SQL } from 'drizzle-orm';
import type { Schema } from 'hono';
import { flags } from '../../../../shared/db/schema/flags.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { afterCursor, type Keyset, page, sortKey } from '../../pagination.ts';
import { FlagListQuerySchema, FlagPageSchema, flagView } from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/flags',
  tags: ['flags'],
  summary: 'List feature flags',
  description:
    "The organisation's flags, newest first, a page at a time: the live ones, or with " +
    '`archived=true` the archived ones. Needs `flags:manage` or `settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('flags:manage', { or: 'settings:manage' })] as const,
  request: { query: FlagListQuerySchema },
  responses: {
    200: {
      description: 'A page of flags.',
      content: { 'application/json': { schema: FlagPageSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'RATE_LIMITED',
      ...COMMON_PROBLEMS,
    ),
  },
});

const KEYSET: Keyset = { time: flags.createdAt, id: flags.id };

export function registerFlagsList<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const query = c.req.valid('query');
    const conditions: SQL[] = [
      eq(flags.orgId, orgId),
      query.archived === 'true' ? isNotNull(flags.archivedAt) : isNull(flags.archivedAt),
    ];
    const after = afterCursor(KEYSET, query.cursor);
    if (after) conditions.push(after);
    const rows = await c.var.services.db
      .select({ flag: flags, sortKey: sortKey(KEYSET) })
      .from(flags)
      .where(and(...conditions))
      .orderBy(desc(flags.createdAt), desc(flags.id))
      .limit(query.limit + 1);
    const { items, next_cursor } = page(rows, query.limit, (r) => ({
      t: r.sortKey,
      id: r.flag.id,
    }));
    return c.json(
      FlagPageSchema.parse({ items: items.map((r) => flagView(r.flag)), next_cursor }),
      200,
    );
  });
}
