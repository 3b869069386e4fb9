import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { removeMember } from '../../../../shared/auth/memberships.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { refusalError, userPrincipal } from './errors.ts';
import { MemberParamsSchema } from './schema.ts';
import { applyMembershipChange } from './tokens.ts';

export const route = createRoute({
  method: 'delete',
  path: '/v1/members/{user_id}',
  tags: ['members'],
  summary: 'Remove a member, or leave',
  description:
    'Any member may remove themselves (leave the organisation). Removing someone else needs ' +
    '`members:manage` and follows the role-change rules: only members ranked at or below you, ' +
    'and only an owner may remove an owner (403 with `rule`). The last owner can never be ' +
    "removed (409, `rule: last_owner`). The member's sessions for this organisation are " +
    'revoked at once, and every access token they hold for it is refused on every route within ' +
    '5 seconds. Needs a live session; API keys cannot change memberships.',
  security: [{ bearer: [] }],
  // Leaving needs no permission, so the rules (members:manage for anyone else) are checked in
  // the handler, against the caller's current role.
  middleware: [requireAuth(null, { user: true, liveSession: true })] as const,
  request: { params: MemberParamsSchema },
  responses: {
    204: { description: 'Removed.' },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'CONFLICT',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerMembersRemove<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { user_id: targetUserId } = c.req.valid('param');
    const principal = userPrincipal(c);
    const result = await removeMember(c.var.services, {
      orgId: principal.orgId,
      actor: { userId: principal.userId, superAdmin: principal.superAdmin },
      targetUserId,
    });
    if (!result.ok) {
      if (result.reason === 'not_found') {
        throw new AppError({
          code: 'NOT_FOUND',
          message: 'This organisation has no such member',
        });
      }
      throw refusalError(c, result);
    }
    // After the commit: the membership is gone, so their refreshes already fail.
    const revoked = await applyMembershipChange(c, targetUserId, 'removed');
    audit(c, {
      action: 'membership.remove',
      targetType: 'user',
      targetId: targetUserId,
      data: {
        role: result.member.role,
        left: targetUserId === principal.userId,
        sessions_revoked: revoked,
      },
    });
    return c.body(null, 204);
  });
}
