import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { setUserDisabled } from '../../../../shared/auth/accounts.ts';
import { recordSessionsEnded } from '../../../../shared/auth/session-state.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { AdminUserParamsSchema, AdminUserSchema, AdminUserUpdateSchema } from './schema.ts';

export const route = createRoute({
  method: 'patch',
  path: '/v1/admin/users/{user_id}',
  tags: ['admin'],
  summary: 'Disable or enable an account',
  description:
    '`disabled: true` stops an account everywhere: sign-in and refresh refuse it, and every ' +
    'session it has is ended, so its access tokens are refused on every route within 5 seconds ' +
    '(at once in the instance that disabled it). `disabled: false` lets it sign in again. ' +
    'Super admins only, never on their own account; audited as `user.disable` / `user.enable`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('admin', { user: true, liveSession: true })] as const,
  request: {
    params: AdminUserParamsSchema,
    body: { required: true, content: { 'application/json': { schema: AdminUserUpdateSchema } } },
  },
  responses: {
    200: {
      description: 'The account as it is now.',
      content: { 'application/json': { schema: AdminUserSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'CONFLICT',
      'RATE_LIMITED',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerAdminUsersUpdate<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { user_id: userId } = c.req.valid('param');
    const { disabled } = c.req.valid('json');
    const principal = c.var.principal!;
    if (principal.kind === 'user' && principal.userId === userId && disabled) {
      throw new AppError({
        code: 'CONFLICT',
        message: 'You cannot disable your own account',
        extensions: { rule: 'self' },
      });
    }
    const user = await setUserDisabled(c.var.services.db, userId, disabled);
    if (!user) throw new AppError({ code: 'NOT_FOUND', message: `No user ${userId}.` });
    let revoked: string[] = [];
    if (disabled) {
      // After the commit, so a sign-in racing this one either reads the account as disabled or
      // has its new session ended here (`startSession` reads the account after creating it).
      revoked = await c.env.SESSIONS.get(c.env.SESSIONS.idFromName(userId)).revokeAll();
      recordSessionsEnded(userId, revoked);
    }
    audit(c, {
      action: disabled ? 'user.disable' : 'user.enable',
      orgId: null,
      targetType: 'user',
      targetId: userId,
      data: disabled ? { sessions_revoked: revoked.length } : {},
    });
    return c.json(
      AdminUserSchema.parse({
        id: user.id,
        email: user.email,
        name: user.name,
        super_admin: user.isSuperAdmin,
        disabled_at: user.disabledAt?.toISOString() ?? null,
        sessions_revoked: revoked.length,
      }),
      200,
    );
  });
}
