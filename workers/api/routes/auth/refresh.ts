import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { RotateFailure } from '../../../../durable-objects/sessions.ts';
import { currentMembership, findMembership, findUser } from '../../../../shared/auth/accounts.ts';
import { parseRefreshToken } from '../../../../shared/auth/refresh-tokens.ts';
import { recordSessionsEnded } from '../../../../shared/auth/session-state.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { clientIp, userAgent } from '../../request-context.ts';
import { NO_STORE, sessionsOf, tokenResponse } from './issue.ts';
import { RefreshBodySchema, TokenResponseSchema } from './schema.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/auth/refresh',
  tags: ['auth'],
  summary: 'Refresh the tokens',
  description:
    'Trades a refresh token for a new access token and the next refresh token (each refresh ' +
    'token works once). The role is read afresh: after a role change the older access tokens ' +
    'are refused (401) until the client refreshes. ' +
    '`org_id` switches the session to another of your organisations. Presenting a refresh token ' +
    'that was already used signs the whole session out (it may have been stolen), except within ' +
    'a few seconds of its use, when it is taken for a concurrent refresh and only refused.',
  request: {
    body: { required: true, content: { 'application/json': { schema: RefreshBodySchema } } },
  },
  responses: {
    200: {
      description: 'New tokens.',
      content: { 'application/json': { schema: TokenResponseSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'RATE_LIMITED',
      ...COMMON_PROBLEMS,
    ),
  },
});

const REFUSALS: Record<RotateFailure, string> = {
  unknown: 'The refresh token is invalid',
  expired: 'The session has expired; sign in again',
  revoked: 'The session has been signed out; sign in again',
  reused:
    'The refresh token was already used, so the session has been signed out in case it was ' +
    'stolen; sign in again',
  raced:
    'The refresh token was already used by a concurrent refresh; use the refresh token that ' +
    'request received',
};

const refused = (message: string) => new AppError({ code: 'UNAUTHORIZED', message });

export function registerAuthRefresh<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const body = c.req.valid('json');
    const { db } = c.var.services;
    const parsed = parseRefreshToken(body.refresh_token);
    if (!parsed) throw refused(REFUSALS.unknown);
    const sessions = sessionsOf(c, parsed.userId);

    // An organisation switch is checked before the token is spent, so a mistaken org_id costs
    // nothing; and only for the session's current token, so a forged or used token learns
    // nothing about who belongs where.
    if (body.org_id && (await sessions.isCurrent(body.refresh_token))) {
      if (!(await findMembership(db, parsed.userId, body.org_id))) {
        throw new AppError({
          code: 'FORBIDDEN',
          message: `You are not a member of organisation ${body.org_id}`,
        });
      }
    }

    // Rotate first, then read the membership: a role change or removal committed before the
    // read is seen by it, and one committed after it finds this generation in `SESSIONS`.
    const rotated = await sessions.rotate({
      refreshToken: body.refresh_token,
      ip: clientIp(c),
      userAgent: userAgent(c),
      orgId: body.org_id,
    });
    if (!rotated.ok) {
      if (rotated.familyRevoked) recordSessionsEnded(parsed.userId, [parsed.sessionId]);
      if (rotated.reason === 'reused') {
        audit(c, {
          action: 'session.token_reuse',
          orgId: rotated.orgId ?? null,
          actor: { type: 'system', id: null },
          targetType: 'session',
          targetId: parsed.sessionId,
          data: {
            user_id: parsed.userId,
            session_id: parsed.sessionId,
            family_revoked: rotated.familyRevoked,
          },
        });
      }
      throw refused(REFUSALS[rotated.reason]);
    }

    const { session, generation } = rotated;
    const orgId = session.org_id;
    const [user, organization] = await Promise.all([
      findUser(db, parsed.userId),
      currentMembership(db, parsed.userId, orgId),
    ]);
    if (!user || user.disabledAt !== null) {
      await sessions.revoke(session.id);
      recordSessionsEnded(parsed.userId, [session.id]);
      throw refused('The account is disabled');
    }
    if (!organization) {
      // Removed from the organisation since: the session is for an organisation they left.
      await sessions.revoke(session.id);
      recordSessionsEnded(parsed.userId, [session.id]);
      throw new AppError({
        code: 'FORBIDDEN',
        message: `You are no longer a member of organisation ${orgId}; sign in again`,
      });
    }
    const { disabled: _, ...membership } = organization;
    const tokens = await tokenResponse(c, {
      user,
      organization: membership,
      sessionId: session.id,
      generation,
      refreshToken: rotated.refreshToken,
    });
    return c.json(tokens, 200, NO_STORE);
  });
}
