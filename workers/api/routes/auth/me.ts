import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { findUser, listMemberships } from '../../../../shared/auth/accounts.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { sessionsOf, userPrincipal } from './issue.ts';
import { MeSchema } from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/auth/me',
  tags: ['auth'],
  summary: 'Who am I',
  description:
    'The signed-in user, every organisation they belong to with their role there as it is now ' +
    '(after a role change the older access tokens are refused until refreshed, and the refresh ' +
    'carries the new role), the organisation this token is for, and the current session.',
  security: [{ bearer: [] }],
  middleware: [requireAuth(null, { user: true, liveSession: true })] as const,
  responses: {
    200: { description: 'The caller.', content: { 'application/json': { schema: MeSchema } } },
    ...problemResponses('UNAUTHORIZED', 'FORBIDDEN', ...COMMON_PROBLEMS),
  },
});

const signedOut = () =>
  new AppError({ code: 'UNAUTHORIZED', message: 'The session has been signed out' });

export function registerAuthMe<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const principal = userPrincipal(c);
    const { db } = c.var.services;
    const [user, memberships, sessions] = await Promise.all([
      findUser(db, principal.userId),
      listMemberships(db, principal.userId),
      sessionsOf(c, principal.userId).list(),
    ]);
    const session = sessions.find((s) => s.id === principal.sessionId);
    if (!user || !session) throw signedOut();
    const organization = memberships.find((m) => m.id === principal.orgId);
    if (!organization) {
      throw new AppError({
        code: 'FORBIDDEN',
        message: `You are no longer a member of organisation ${principal.orgId}`,
      });
    }
    return c.json(
      MeSchema.parse({
        user: { id: user.id, email: user.email, name: user.name, super_admin: user.isSuperAdmin },
        memberships,
        organization,
        session,
      }),
      200,
    );
  });
}
