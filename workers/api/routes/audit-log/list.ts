import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, desc, eq, gte, like, lt, type SQL } from 'drizzle-orm';
import type { Schema } from 'hono';
import { auditLog } from '../../../../shared/db/schema/index.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { afterCursor, type Keyset, page, sortKey } from '../../pagination.ts';
import { AuditPageSchema, AuditQuerySchema } from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/audit-log',
  tags: ['audit'],
  summary: 'Read the audit log',
  description:
    "The organisation's audit trail, newest first: logins, token reuse, session revocations, " +
    'API-key and membership changes, permission denials. Filter by action (or `resource.*`), ' +
    'actor, target and time range; page with `cursor`. Events arrive through a queue, so one ' +
    'can take a few seconds to appear.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('audit:read', { liveSession: true })] as const,
  request: { query: AuditQuerySchema },
  responses: {
    200: {
      description: 'A page of audit entries.',
      content: { 'application/json': { schema: AuditPageSchema } },
    },
    ...problemResponses('VALIDATION_FAILED', 'UNAUTHORIZED', 'FORBIDDEN', ...COMMON_PROBLEMS),
  },
});

const KEYSET: Keyset = { time: auditLog.createdAt, id: auditLog.id };

export function registerAuditLogList<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const query = c.req.valid('query');
    const orgId = c.var.principal!.orgId;
    const conditions: SQL[] = [eq(auditLog.orgId, orgId)];
    if (query.action?.endsWith('.*')) {
      // `_` is a LIKE wildcard; actions use it (`api_key.*`), so escape it.
      conditions.push(
        like(auditLog.action, `${query.action.slice(0, -1).replaceAll('_', '\\_')}%`),
      );
    } else if (query.action) {
      conditions.push(eq(auditLog.action, query.action));
    }
    if (query.actor_type) conditions.push(eq(auditLog.actorType, query.actor_type));
    if (query.actor_id) conditions.push(eq(auditLog.actorId, query.actor_id));
    if (query.target_type) conditions.push(eq(auditLog.targetType, query.target_type));
    if (query.target_id) conditions.push(eq(auditLog.targetId, query.target_id));
    if (query.since) conditions.push(gte(auditLog.createdAt, new Date(query.since)));
    if (query.until) conditions.push(lt(auditLog.createdAt, new Date(query.until)));
    const after = afterCursor(KEYSET, query.cursor);
    if (after) conditions.push(after);
    const rows = await c.var.services.db
      .select({ row: auditLog, sortKey: sortKey(KEYSET) })
      .from(auditLog)
      .where(and(...conditions))
      .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
      .limit(query.limit + 1);
    const { items, next_cursor } = page(rows, query.limit, (r) => ({ t: r.sortKey, id: r.row.id }));
    return c.json(
      AuditPageSchema.parse({
        items: items.map(({ row }) => ({
          id: row.id,
          action: row.action,
          actor_type: row.actorType,
          actor_id: row.actorId,
          target_type: row.targetType,
          target_id: row.targetId,
          ip: row.ip,
          user_agent: row.userAgent,
          request_id: row.requestId,
          trace_id: row.traceId,
          data: row.data,
          created_at: row.createdAt.toISOString(),
        })),
        next_cursor,
      }),
      200,
    );
  });
}
