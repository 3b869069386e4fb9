import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, arrayOverlaps, desc, eq, ilike, inArray, or, type SQL } from 'drizzle-orm';
import type { Schema } from 'hono';
import { documents } from '../../../../shared/db/schema/documents.ts';
import { visibleDocuments } from '../../../../shared/documents/access.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { afterCursor, type Keyset, page, sortKey } from '../../pagination.ts';
import { DocumentListQuerySchema, DocumentPageSchema, documentView } from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/documents',
  tags: ['documents'],
  summary: 'List documents',
  description:
    "The organisation's documents the caller may see (private ones only to their uploader, " +
    'owners and admins), newest first, a page at a time. Filters combine with AND; a filter ' +
    'naming several values matches any of them. Needs `documents:read`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('documents:read')] as const,
  request: { query: DocumentListQuerySchema },
  responses: {
    200: {
      description: 'A page of documents.',
      content: { 'application/json': { schema: DocumentPageSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'RATE_LIMITED',
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

const KEYSET: Keyset = { time: documents.createdAt, id: documents.id };

/** `text` as a literal inside an ILIKE pattern (its `%`, `_` and `\` escaped). */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (ch) => `\\${ch}`);

export function registerDocumentsList<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const principal = c.var.principal!;
    const query = c.req.valid('query');
    const conditions: Array<SQL | undefined> = [
      eq(documents.orgId, principal.orgId),
      visibleDocuments(principal),
    ];
    if (query.status) conditions.push(inArray(documents.status, query.status));
    if (query.type) conditions.push(inArray(documents.contentType, query.type));
    if (query.category) conditions.push(inArray(documents.categoryId, query.category));
    if (query.tags) conditions.push(arrayOverlaps(documents.tags, query.tags));
    if (query.locale) conditions.push(eq(documents.locale, query.locale));
    if (query.visibility) conditions.push(eq(documents.visibility, query.visibility));
    if (query.q) {
      const pattern = `%${likeLiteral(query.q)}%`;
      conditions.push(or(ilike(documents.title, pattern), ilike(documents.fileName, pattern)));
    }
    conditions.push(afterCursor(KEYSET, query.cursor));
    const rows = await c.var.services.db
      .select({ row: documents, sortKey: sortKey(KEYSET) })
      .from(documents)
      .where(and(...conditions))
      .orderBy(desc(documents.createdAt), desc(documents.id))
      .limit(query.limit + 1);
    const { items, next_cursor } = page(rows, query.limit, (r) => ({ t: r.sortKey, id: r.row.id }));
    return c.json(
      DocumentPageSchema.parse({ items: items.map((r) => documentView(r.row)), next_cursor }),
      200,
    );
  });
}
