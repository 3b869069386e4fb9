import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, desc, eq, gt, isNull, or, type SQL, sql } from 'drizzle-orm';
import type { Schema } from 'hono';
import { apiKeys } from '../../../../shared/db/schema/auth.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import {
  ApiKeyListSchema,
  apiKeyView,
  decodeCursor,
  encodeCursor,
  ListApiKeysQuerySchema,
} from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/keys',
  tags: ['keys'],
  summary: 'List API keys',
  description:
    "The organisation's API keys, newest first, a page at a time. Revoked keys, and rolled keys " +
    'whose grace period is over, are left out unless `include_revoked=true`. Secrets and hashes ' +
    'are never listed.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('keys:manage', { liveSession: true })] as const,
  request: { query: ListApiKeysQuerySchema },
  responses: {
    200: {
      description: 'A page of keys.',
      content: { 'application/json': { schema: ApiKeyListSchema } },
    },
    ...problemResponses('VALIDATION_FAILED', 'UNAUTHORIZED', 'FORBIDDEN', ...COMMON_PROBLEMS),
  },
});

export function registerKeysList<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const query = c.req.valid('query');
    const conditions: (SQL | undefined)[] = [eq(apiKeys.orgId, orgId)];
    if (!query.include_revoked) {
      conditions.push(
        isNull(apiKeys.revokedAt),
        or(isNull(apiKeys.graceUntil), gt(apiKeys.graceUntil, new Date())),
      );
    }
    if (query.cursor !== undefined) {
      const after = decodeCursor(query.cursor);
      // Keyset paging on (created_at, id) with the cursor key's own values, read at full
      // precision in Postgres (a JavaScript Date would drop the microseconds).
      conditions.push(
        sql`(${apiKeys.createdAt}, ${apiKeys.id}) < (select k.created_at, k.id from api_keys k where k.id = ${after} and k.org_id = ${orgId})`,
      );
    }
    const rows = await c.var.services.db
      .select()
      .from(apiKeys)
      .where(and(...conditions))
      .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
      .limit(query.limit + 1);
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return c.json(
      ApiKeyListSchema.parse({
        items: page.map(apiKeyView),
        next_cursor: rows.length > query.limit && last ? encodeCursor(last.id) : null,
      }),
      200,
    );
  });
}
