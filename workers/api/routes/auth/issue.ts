import type { Context } from 'hono';
import {
  type AccountUser,
  currentMembership,
  type OrgMembership,
} from '../../../../shared/auth/accounts.ts';
import type { Principal } from '../../../../shared/auth/permissions.ts';
import { ACCESS_TOKEN_TTL_SECONDS, signAccessToken } from '../../../../shared/auth/tokens.ts';
import { AppError } from '../../../../shared/errors.ts';
import { newId } from '../../../../shared/ids.ts';
import type { AppBindings } from '../../app.ts';
import { keyRing, tokenAudience } from '../../middleware/auth.ts';
import { clientIp, userAgent } from '../../request-context.ts';
import { type TokenResponse, TokenResponseSchema } from './schema.ts';

/** Token responses must never be cached (RFC 6749 5.1). */
export const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;

/** The `SESSIONS` object of a user. */
export function sessionsOf(c: Context<AppBindings>, userId: string) {
  const namespace = c.var.env.SESSIONS;
  return namespace.get(namespace.idFromName(userId));
}

/** The signed-in user making the call (routes that declare `requireAuth(…, { user: true })`). */
export function userPrincipal(c: Context<AppBindings>): Extract<Principal, { kind: 'user' }> {
  const principal = c.var.principal;
  if (principal?.kind !== 'user') throw new Error('route needs requireAuth with { user: true }');
  return principal;
}

/** Signs the access token for a session and shapes the token response. */
export async function tokenResponse(
  c: Context<AppBindings>,
  grant: {
    user: Pick<AccountUser, 'id' | 'email' | 'name' | 'isSuperAdmin'>;
    organization: OrgMembership;
    sessionId: string;
    /** The session's generation after the sign-in or refresh (the token's `gen`). */
    generation: number;
    refreshToken: string;
  },
): Promise<TokenResponse> {
  const { user, organization, sessionId, generation, refreshToken } = grant;
  const { token } = await signAccessToken(
    keyRing(c.var.env),
    {
      sub: user.id,
      org: organization.id,
      role: organization.role,
      sid: sessionId,
      gen: generation,
      ...(user.isSuperAdmin ? { sa: true as const } : {}),
    },
    tokenAudience(c.var.env),
  );
  return TokenResponseSchema.parse({
    access_token: token,
    token_type: 'Bearer',
    expires_in: ACCESS_TOKEN_TTL_SECONDS,
    refresh_token: refreshToken,
    session_id: sessionId,
    user: { id: user.id, email: user.email, name: user.name },
    organization,
  });
}

/** A token response with the device token of a sign-in or sign-up (absent when there is none). */
export function withDeviceToken(tokens: TokenResponse, deviceToken: string | null): TokenResponse {
  return TokenResponseSchema.parse({
    ...tokens,
    ...(deviceToken ? { device_token: deviceToken } : {}),
  });
}

/**
 * Starts a session (a new refresh-token family) for a sign-in to `organization` and issues its
 * tokens. The membership is read again once the session exists: a removal, role change or
 * account disable that committed before that read is seen by it, and one after it finds the
 * session in `SESSIONS` and revokes or refreshes it there (see `Sessions.membershipChanged`).
 */
export async function startSession(
  c: Context<AppBindings>,
  user: Pick<AccountUser, 'id' | 'email' | 'name' | 'isSuperAdmin'>,
  organization: Pick<OrgMembership, 'id'>,
): Promise<TokenResponse> {
  const sessionId = newId('session');
  const sessions = sessionsOf(c, user.id);
  const { refreshToken, generation } = await sessions.create({
    sessionId,
    orgId: organization.id,
    ip: clientIp(c),
    userAgent: userAgent(c),
  });
  const current = await currentMembership(c.var.services.db, user.id, organization.id);
  if (!current || current.disabled) {
    await sessions.revoke(sessionId);
    throw current
      ? new AppError({ code: 'UNAUTHORIZED', message: 'The account is disabled' })
      : new AppError({
          code: 'FORBIDDEN',
          message: `You are not a member of organisation ${organization.id}`,
        });
  }
  const { disabled: _, ...membership } = current;
  return tokenResponse(c, {
    user,
    organization: membership,
    sessionId,
    generation,
    refreshToken,
  });
}
