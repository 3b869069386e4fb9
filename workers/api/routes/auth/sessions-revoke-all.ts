import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { recordSessionsEnded } from '../../../../shared/auth/session-state.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { sessionsOf, userPrincipal } from './issue.ts';
import { RevokeAllQuerySchema, RevokeAllResponseSchema } from './schema.ts';

export const route = createRoute({
  method: 'delete',
  path: '/v1/auth/sessions',
  tags: ['auth'],
  summary: 'Revoke all sessions',
  description:
    'Signs out every session of yours, in every organisation: all but the current one by ' +
    'default ("sign out other devices"), or all of them with `keep_current=false`. Their ' +
    'access tokens are refused on every route within 5 seconds.',
  security: [{ bearer: [] }],
  middleware: [requireAuth(null, { user: true, liveSession: true })] as const,
  request: { query: RevokeAllQuerySchema },
  responses: {
    200: {
      description: 'The sessions revoked.',
      content: { 'application/json': { schema: RevokeAllResponseSchema } },
    },
    ...problemResponses('VALIDATION_FAILED', 'UNAUTHORIZED', 'FORBIDDEN', ...COMMON_PROBLEMS),
  },
});

export function registerAuthSessionsRevokeAll<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { keep_current: keepCurrent } = c.req.valid('query');
    const principal = userPrincipal(c);
    const revoked = await sessionsOf(c, principal.userId).revokeAll(
      keepCurrent ? { except: principal.sessionId } : {},
    );
    recordSessionsEnded(principal.userId, revoked);
    audit(c, {
      action: 'session.revoke_all',
      targetType: 'user',
      targetId: principal.userId,
      data: { session_ids: revoked, count: revoked.length, kept_current: keepCurrent },
    });
    return c.json(RevokeAllResponseSchema.parse({ revoked }), 200);
  });
}
