import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, eq, isNull } from 'drizzle-orm';
import type { Schema } from 'hono';
import { invalidateApiKey } from '../../../../shared/auth/api-keys.ts';
import { apiKeys } from '../../../../shared/db/schema/auth.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { ApiKeySchema, apiKeyView, KeyIdParamsSchema, keyNotFound } from './schema.ts';

export const route = createRoute({
  method: 'delete',
  path: '/v1/keys/{id}',
  tags: ['keys'],
  summary: 'Revoke an API key',
  description:
    'Revokes a key. The isolate that answers refuses it at once, and every other data centre ' +
    'within 60 s: verification results are cached for 10 s in memory and 30 s at the KV edge, ' +
    'and the revoke overwrites the KV entry before it answers. Revoking a revoked key answers ' +
    'the same 200 with its original `revoked_at`. A rolled key still in its grace period stops ' +
    'working too; its successor is not affected.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('keys:manage', { liveSession: true })] as const,
  request: { params: KeyIdParamsSchema },
  responses: {
    200: {
      description: 'The revoked key.',
      content: { 'application/json': { schema: ApiKeySchema } },
    },
    ...problemResponses('UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', ...COMMON_PROBLEMS),
  },
});

export function registerKeysRevoke<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id } = c.req.valid('param');
    const { db } = c.var.services;
    const ours = and(eq(apiKeys.id, id), eq(apiKeys.orgId, orgId));
    const [revoked] = await db
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(and(ours, isNull(apiKeys.revokedAt)))
      .returning();
    const row =
      revoked ?? (await db.select().from(apiKeys).where(ours).limit(1)).at(0) ?? undefined;
    if (!row) throw keyNotFound();
    // Also on a repeated revoke: it re-publishes the tombstone if the first write was lost.
    await invalidateApiKey(c.var.services, row);
    const key = apiKeyView(row);
    if (revoked) {
      audit(c, {
        action: 'api_key.revoke',
        targetType: 'api_key',
        targetId: key.id,
        data: { key_id: key.id, prefix: key.prefix, scopes: key.scopes },
      });
    }
    return c.json(key, 200);
  });
}
