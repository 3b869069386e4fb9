import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, desc, eq, gt, isNotNull, isNull, lte, type SQL } from 'drizzle-orm';
import type { Schema } from 'hono';
import type { InvitationStatus } from '../../../../shared/auth/invitations.ts';
import { invitations } from '../../../../shared/db/schema/index.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { afterCursor, type Keyset, page, sortKey } from '../../pagination.ts';
import { InvitationPageSchema, InvitationQuerySchema, invitationBody } from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/invitations',
  tags: ['invitations'],
  summary: 'List invitations',
  description:
    "The organisation's invitations, newest first, in every state unless `status` says which; " +
    'page with `cursor`. Tokens are never shown again. Needs `members:manage` and a live session.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('members:manage', { user: true, liveSession: true })] as const,
  request: { query: InvitationQuerySchema },
  responses: {
    200: {
      description: 'A page of invitations.',
      content: { 'application/json': { schema: InvitationPageSchema } },
    },
    ...problemResponses('VALIDATION_FAILED', 'UNAUTHORIZED', 'FORBIDDEN', ...COMMON_PROBLEMS),
  },
});

const KEYSET: Keyset = { time: invitations.createdAt, id: invitations.id };

/** The SQL for a derived status, as `invitationStatus` derives it. */
function statusCondition(status: InvitationStatus, now: Date): SQL {
  const open = and(isNull(invitations.acceptedAt), isNull(invitations.revokedAt))!;
  switch (status) {
    case 'accepted':
      return isNotNull(invitations.acceptedAt);
    case 'revoked':
      return isNotNull(invitations.revokedAt);
    case 'expired':
      return and(open, lte(invitations.expiresAt, now))!;
    case 'open':
      return and(open, gt(invitations.expiresAt, now))!;
  }
}

export function registerInvitationsList<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const query = c.req.valid('query');
    const now = new Date();
    const conditions: SQL[] = [eq(invitations.orgId, c.var.principal!.orgId)];
    if (query.status) conditions.push(statusCondition(query.status, now));
    const after = afterCursor(KEYSET, query.cursor);
    if (after) conditions.push(after);
    const rows = await c.var.services.db
      .select({ row: invitations, sortKey: sortKey(KEYSET) })
      .from(invitations)
      .where(and(...conditions))
      .orderBy(desc(invitations.createdAt), desc(invitations.id))
      .limit(query.limit + 1);
    const { items, next_cursor } = page(rows, query.limit, (r) => ({ t: r.sortKey, id: r.row.id }));
    return c.json(
      InvitationPageSchema.parse({
        items: items.map(({ row }) => invitationBody(row, now)),
        next_cursor,
      }),
      200,
    );
  });
}
