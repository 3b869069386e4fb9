import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { revokeInvitation } from '../../../../shared/auth/invitations.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { InvitationParamsSchema, InvitationSchema, invitationBody } from './schema.ts';

export const route = createRoute({
  method: 'delete',
  path: '/v1/invitations/{id}',
  tags: ['invitations'],
  summary: 'Revoke an invitation',
  description:
    'Closes an open (or expired) invitation so its token no longer works. An invitation already ' +
    'accepted or revoked is refused (409, naming which). Needs `members:manage` and a live ' +
    'session.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('members:manage', { user: true, liveSession: true })] as const,
  request: { params: InvitationParamsSchema },
  responses: {
    200: {
      description: 'The revoked invitation.',
      content: { 'application/json': { schema: InvitationSchema } },
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

export function registerInvitationsRevoke<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    const result = await revokeInvitation(c.var.services, { orgId: c.var.principal!.orgId, id });
    if (!result.ok) {
      if (result.reason === 'not_found') {
        throw new AppError({
          code: 'NOT_FOUND',
          message: 'This organisation has no such invitation',
        });
      }
      throw new AppError({
        code: 'CONFLICT',
        message: `The invitation has already been ${result.status}`,
        extensions: { invitation_status: result.status },
      });
    }
    audit(c, {
      action: 'invitation.revoke',
      targetType: 'invitation',
      targetId: id,
      data: { email: result.invitation.email, role: result.invitation.role },
    });
    return c.json(invitationBody(result.invitation), 200);
  });
}
