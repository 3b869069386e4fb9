import type { Context } from 'hono';
import type { AccountUser, OrgMembership } from '../../../../shared/auth/accounts.ts';
import type { Principal } from '../../../../shared/auth/permissions.ts';
import { ACCESS_TOKEN_TTL_SECONDS, signAccessToken } from '../../../../shared/auth/tokens.ts';
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
    refreshToken: string;
  },
): Promise<TokenResponse> {
  const { user, organization, sessionId, refreshToken } = grant;
  const { token } = await signAccessToken(
    keyRing(c.var.env),
    {
      sub: user.id,
      org: organization.id,
      role: organization.role,
      sid: sessionId,
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

/** Starts a session (a new refresh-token family) for a sign-in and issues its tokens. */
export async function startSession(
  c: Context<AppBindings>,
  user: Pick<AccountUser, 'id' | 'email' | 'name' | 'isSuperAdmin'>,
  organization: OrgMembership,
): Promise<TokenResponse> {
  const sessionId = newId('session');
  const { refreshToken } = await sessionsOf(c, user.id).create({
    sessionId,
    orgId: organization.id,
    ip: clientIp(c),
    userAgent: userAgent(c),
  });
  return tokenResponse(c, { user, organization, sessionId, refreshToken });
}
