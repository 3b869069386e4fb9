import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { changeRole } from '../../../../shared/auth/memberships.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { refusalError, userPrincipal } from './errors.ts';
import { MemberParamsSchema, MemberSchema, MemberUpdateSchema, memberBody } from './schema.ts';
import { applyMembershipChange } from './tokens.ts';

export const route = createRoute({
  method: 'patch',
  path: '/v1/members/{user_id}',
  tags: ['members'],
  summary: "Change a member's role",
  description:
    'Needs `members:manage` and a live session (API keys cannot change memberships). You may ' +
    'only change members ranked at or below you (owner > admin > editor > author > viewer), to ' +
    'a role at or below yours; only an owner may grant the owner role or change an owner ' +
    '(403 with `rule`). The last owner cannot be demoted (409, `rule: last_owner`). Within 5 ' +
    "seconds of a change, the member's access tokens for this organisation are refused (401) " +
    'until their client refreshes them, and the refresh carries the new role.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('members:manage', { user: true, liveSession: true })] as const,
  request: {
    params: MemberParamsSchema,
    body: { content: { 'application/json': { schema: MemberUpdateSchema } }, required: true },
  },
  responses: {
    200: {
      description: 'The member, with their new role.',
      content: { 'application/json': { schema: MemberSchema } },
    },
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

export function registerMembersUpdate<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { user_id: targetUserId } = c.req.valid('param');
    const { role } = c.req.valid('json');
    const principal = userPrincipal(c);
    const result = await changeRole(c.var.services, {
      orgId: principal.orgId,
      actor: { userId: principal.userId, superAdmin: principal.superAdmin },
      targetUserId,
      role,
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
    if (result.before !== result.member.role) {
      await applyMembershipChange(c, targetUserId, 'role');
      audit(c, {
        action: 'membership.role_change',
        targetType: 'user',
        targetId: targetUserId,
        data: { before: result.before, after: result.member.role },
      });
    }
    return c.json(memberBody(result.member, true), 200);
  });
}
