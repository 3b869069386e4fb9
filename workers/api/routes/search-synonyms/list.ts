import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, desc, eq, type SQL } from 'drizzle-orm';
import type { Schema } from 'hono';
import { synonyms } from '../../../../shared/db/schema/search.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { afterCursor, type Keyset, page, sortKey } from '../../pagination.ts';
import {
  SYNONYM_SELECTION,
  SynonymListQuerySchema,
  SynonymPageSchema,
  synonymView,
} from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/search/synonyms',
  tags: ['search'],
  summary: 'List synonym sets',
  description:
    "The organisation's synonym sets, newest first, a page at a time; `locale` keeps the sets " +
    'stored for exactly that locale. Needs `search`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('search')] as const,
  request: { query: SynonymListQuerySchema },
  responses: {
    200: {
      description: 'A page of synonym sets.',
      content: { 'application/json': { schema: SynonymPageSchema } },
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

const KEYSET: Keyset = { time: synonyms.createdAt, id: synonyms.id };

export function registerSearchSynonymsList<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const query = c.req.valid('query');
    const conditions: SQL[] = [eq(synonyms.orgId, orgId)];
    if (query.locale) conditions.push(eq(synonyms.locale, query.locale));
    const after = afterCursor(KEYSET, query.cursor);
    if (after) conditions.push(after);
    const rows = await c.var.services.db
      .select({ ...SYNONYM_SELECTION, sortKey: sortKey(KEYSET) })
      .from(synonyms)
      .where(and(...conditions))
      .orderBy(desc(synonyms.createdAt), desc(synonyms.id))
      .limit(query.limit + 1);
    const { items, next_cursor } = page(rows, query.limit, (r) => ({ t: r.sortKey, id: r.id }));
    return c.json(SynonymPageSchema.parse({ items: items.map(synonymView), next_cursor }), 200);
  });
}
