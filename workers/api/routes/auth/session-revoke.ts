import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { recordSessionsEnded } from '../../../../shared/auth/session-state.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { sessionsOf, userPrincipal } from './issue.ts';
import { SessionParamsSchema } from './schema.ts';

export const route = createRoute({
  method: 'delete',
  path: '/v1/auth/sessions/{id}',
  tags: ['auth'],
  summary: 'Revoke a session',
  description:
    'Signs one of your sessions out (a lost device, say): its refresh token stops working at ' +
    'once, and its access tokens are refused on every route within 5 seconds. Revoking the ' +
    'current session is signing out.',
  security: [{ bearer: [] }],
  middleware: [requireAuth(null, { user: true, liveSession: true })] as const,
  request: { params: SessionParamsSchema },
  responses: {
    204: { description: 'Revoked.' },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerAuthSessionRevoke<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    const principal = userPrincipal(c);
    // The caller's own object is the only place looked in: another user's session is unknown.
    if (!(await sessionsOf(c, principal.userId).revoke(id))) {
      throw new AppError({ code: 'NOT_FOUND', message: 'You have no live session with this id' });
    }
    recordSessionsEnded(principal.userId, [id]);
    audit(c, {
      action: 'session.revoke',
      targetType: 'session',
      targetId: id,
      data: { session_id: id, current: id === principal.sessionId },
    });
    return c.body(null, 204);
  });
}
