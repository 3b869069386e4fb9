import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { acceptInvitation } from '../../../../shared/auth/invitations.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { NO_STORE, startSession } from '../auth/issue.ts';
import { TokenResponseSchema } from '../auth/schema.ts';
import { InvitationAcceptSchema } from './schema.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/invitations/accept',
  tags: ['invitations'],
  summary: 'Accept an invitation',
  description:
    'Public: the token is the credential. When an account with the invited address exists, ' +
    '`password` must be its password (401 otherwise); else an account is created with it ' +
    '(and `name`), after the password policy (400 naming `body.password`). The membership is ' +
    'added and the invitation closed together, once: an expired, revoked or already accepted ' +
    'invitation answers 409 naming which (`invitation_status`), an unknown token 404. The ' +
    'answer signs the user in to the organisation joined: the same tokens as ' +
    '`POST /v1/auth/login` (a new session, `organization.role` the role granted).',
  request: {
    body: { content: { 'application/json': { schema: InvitationAcceptSchema } }, required: true },
  },
  responses: {
    200: {
      description: 'Joined and signed in: tokens for the organisation joined.',
      content: { 'application/json': { schema: TokenResponseSchema } },
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

export function registerInvitationsAccept<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const body = c.req.valid('json');
    const result = await acceptInvitation(c.var.services, {
      token: body.token,
      password: body.password,
      name: body.name,
    });
    if (!result.ok) {
      switch (result.reason) {
        case 'not_found':
          throw new AppError({ code: 'NOT_FOUND', message: 'No invitation has this token' });
        case 'closed':
          throw new AppError({
            code: 'CONFLICT',
            message:
              result.status === 'expired'
                ? 'The invitation has expired; ask for a new one'
                : `The invitation has already been ${result.status}`,
            extensions: { invitation_status: result.status },
          });
        case 'wrong_password':
          throw new AppError({
            code: 'UNAUTHORIZED',
            message: 'An account with the invited address exists and this is not its password',
            errors: [{ path: 'body.password', message: 'is not the password of the account' }],
            headers: { 'WWW-Authenticate': 'Bearer realm="sift"' },
          });
        case 'weak_password':
          throw new AppError({
            code: 'VALIDATION_FAILED',
            message: `body.password: ${result.problem}`,
            errors: [{ path: 'body.password', message: result.problem }],
          });
        case 'disabled':
          throw new AppError({ code: 'FORBIDDEN', message: 'The account is disabled' });
        case 'already_member':
          throw new AppError({
            code: 'CONFLICT',
            message: 'The account is already a member of this organisation',
            extensions: { rule: 'already_member' },
          });
        case 'raced':
          throw new AppError({
            code: 'CONFLICT',
            message: 'An account with the invited address was created meanwhile; try again',
          });
      }
    }
    // The session's membership (and so the role) is read back after it is created.
    const tokens = await startSession(c, result.user, result.organization);
    audit(c, {
      action: 'invitation.accept',
      orgId: result.organization.id,
      actor: { type: 'user', id: result.userId },
      targetType: 'invitation',
      targetId: result.invitationId,
      data: { role: result.role, new_user: result.createdUser, session_id: tokens.session_id },
    });
    return c.json(tokens, 200, NO_STORE);
  });
}
