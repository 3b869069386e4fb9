import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { recordSessionsEnded } from '../../../../shared/auth/session-state.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { sessionsOf, userPrincipal } from './issue.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/auth/logout',
  tags: ['auth'],
  summary: 'Sign out',
  description:
    "Ends the caller's session: its refresh token stops working at once, and its access tokens " +
    'are refused on every route within 5 seconds (at once by the instance that signed it out), ' +
    'this one included: signing out again with the same token answers 401.',
  security: [{ bearer: [] }],
  middleware: [requireAuth(null, { user: true })] as const,
  responses: {
    204: { description: 'Signed out.' },
    ...problemResponses('UNAUTHORIZED', 'FORBIDDEN', ...COMMON_PROBLEMS),
  },
});

export function registerAuthLogout<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const principal = userPrincipal(c);
    const revoked = await sessionsOf(c, principal.userId).revoke(principal.sessionId);
    recordSessionsEnded(principal.userId, [principal.sessionId]);
    audit(c, {
      action: 'auth.logout',
      targetType: 'session',
      targetId: principal.sessionId,
      data: { session_id: principal.sessionId, was_live: revoked },
    });
    return c.body(null, 204);
  });
}
