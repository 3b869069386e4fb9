import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, asc, eq, type SQL } from 'drizzle-orm';
import type { Schema } from 'hono';
import { memberships, users } from '../../../../shared/db/schema/index.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { afterCursor, type Keyset, page, sortKey } from '../../pagination.ts';
import { MemberPageSchema, MemberQuerySchema, memberBody } from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/members',
  tags: ['members'],
  summary: 'List members',
  description:
    "The organisation's members, in the order they joined; filter by `role`, page with " +
    '`cursor`. Any member (every role holds `content:read`) may see who is in the ' +
    'organisation and with which role; e-mail addresses are shown only to callers with ' +
    '`members:manage`, and are null for everyone else. For signed-in users only: an API key ' +
    'gets 403 (a key that serves content has no need of the staff list).',
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:read', { user: true })] as const,
  request: { query: MemberQuerySchema },
  responses: {
    200: {
      description: 'A page of members.',
      content: { 'application/json': { schema: MemberPageSchema } },
    },
    ...problemResponses('VALIDATION_FAILED', 'UNAUTHORIZED', 'FORBIDDEN', ...COMMON_PROBLEMS),
  },
});

const KEYSET: Keyset = { time: memberships.createdAt, id: memberships.userId, direction: 'asc' };

export function registerMembersList<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const query = c.req.valid('query');
    const principal = c.var.principal!;
    const conditions: SQL[] = [eq(memberships.orgId, principal.orgId)];
    if (query.role) conditions.push(eq(memberships.role, query.role));
    const after = afterCursor(KEYSET, query.cursor);
    if (after) conditions.push(after);
    const rows = await c.var.services.db
      .select({
        userId: memberships.userId,
        email: users.email,
        name: users.name,
        role: memberships.role,
        joinedAt: memberships.createdAt,
        sortKey: sortKey(KEYSET),
      })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(and(...conditions))
      .orderBy(asc(memberships.createdAt), asc(memberships.userId))
      .limit(query.limit + 1);
    const { items, next_cursor } = page(rows, query.limit, (r) => ({ t: r.sortKey, id: r.userId }));
    const showEmail = principal.permissions.has('members:manage');
    return c.json(
      MemberPageSchema.parse({
        items: items.map((row) => memberBody(row, showEmail)),
        next_cursor,
      }),
      200,
    );
  });
}
