import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { createInvitation } from '../../../../shared/auth/invitations.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { IdempotencyKeyHeaderSchema, idempotent } from '../../middleware/idempotency.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { refusalError, userPrincipal } from '../members/errors.ts';
import { InvitationCreatedSchema, InvitationCreateSchema, invitationBody } from './schema.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/invitations',
  tags: ['invitations'],
  summary: 'Invite someone',
  description:
    'Invites an e-mail address into the organisation with a role at or below yours (an admin ' +
    'cannot invite an owner: 403 with `rule`). The answer holds the token, shown only here. An ' +
    'address that is already a member is refused (409); inviting an address that has an open ' +
    'invitation revokes that one and issues a new one. Needs `members:manage` and a live session. ' +
    'With an `Idempotency-Key`, a retry within 24 h gets this same answer (and token) back ' +
    'instead of revoking it for a new one.',
  security: [{ bearer: [] }],
  middleware: [
    requireAuth('members:manage', { user: true, liveSession: true }),
    idempotent(),
  ] as const,
  request: {
    headers: IdempotencyKeyHeaderSchema,
    body: { content: { 'application/json': { schema: InvitationCreateSchema } }, required: true },
  },
  responses: {
    201: {
      description: 'The invitation and its token.',
      content: { 'application/json': { schema: InvitationCreatedSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'CONFLICT',
      'UNPROCESSABLE',
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerInvitationsCreate<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const body = c.req.valid('json');
    const principal = userPrincipal(c);
    const result = await createInvitation(c.var.services, {
      orgId: principal.orgId,
      actor: { userId: principal.userId, superAdmin: principal.superAdmin },
      email: body.email,
      role: body.role,
      expiresInHours: body.expires_in_hours,
    });
    if (!result.ok) {
      if (result.reason === 'already_member') {
        throw new AppError({
          code: 'CONFLICT',
          message: `${body.email} is already a member of this organisation`,
          extensions: { rule: 'already_member' },
        });
      }
      if (result.reason === 'concurrent') {
        throw new AppError({
          code: 'CONFLICT',
          message: `${body.email} was invited by another request at the same moment; try again`,
        });
      }
      throw refusalError(c, result);
    }
    const { invitation, token, replaced } = result;
    audit(c, {
      action: 'invitation.create',
      targetType: 'invitation',
      targetId: invitation.id,
      data: {
        email: invitation.email,
        role: invitation.role,
        expires_at: invitation.expiresAt.toISOString(),
        replaced,
      },
    });
    return c.json(
      InvitationCreatedSchema.parse({ invitation: invitationBody(invitation), token }),
      201,
    );
  });
}
