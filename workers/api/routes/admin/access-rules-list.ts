import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, desc, eq, type SQL } from 'drizzle-orm';
import type { Schema } from 'hono';
import { accessRules } from '../../../../shared/db/schema/index.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { afterCursor, type Keyset, page, sortKey } from '../../pagination.ts';
import { AccessRulePageSchema, AccessRuleQuerySchema, accessRuleView } from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/admin/access-rules',
  tags: ['admin'],
  summary: 'List access rules',
  description:
    "The platform's allow and deny lists (IP addresses, CIDR ranges and API keys), newest " +
    'first, including expired rules (their `expires_at` is past). Super admins only.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('admin', { user: true, liveSession: true })] as const,
  request: { query: AccessRuleQuerySchema },
  responses: {
    200: {
      description: 'A page of rules.',
      content: { 'application/json': { schema: AccessRulePageSchema } },
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

const KEYSET: Keyset = { time: accessRules.createdAt, id: accessRules.id };

export function registerAdminAccessRulesList<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const query = c.req.valid('query');
    const conditions: SQL[] = [];
    if (query.list) conditions.push(eq(accessRules.list, query.list));
    if (query.subject_type) conditions.push(eq(accessRules.subjectType, query.subject_type));
    const after = afterCursor(KEYSET, query.cursor);
    if (after) conditions.push(after);
    const rows = await c.var.services.db
      .select({ row: accessRules, sortKey: sortKey(KEYSET) })
      .from(accessRules)
      .where(conditions.length > 0 ? and(...conditions) : undefined)
      .orderBy(desc(accessRules.createdAt), desc(accessRules.id))
      .limit(query.limit + 1);
    const { items, next_cursor } = page(rows, query.limit, (r) => ({ t: r.sortKey, id: r.row.id }));
    return c.json(
      AccessRulePageSchema.parse({
        items: items.map(({ row }) => accessRuleView(row)),
        next_cursor,
      }),
      200,
    );
  });
}
