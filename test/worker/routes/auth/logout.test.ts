import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { bearer, createTenant, tokenFor } from '../../auth.ts';
import { call, expectProblem } from '../../helpers.ts';
import { auditRows, refresh } from '../../support/auth-routes.ts';

const logout = (token?: string) =>
  call('/v1/auth/logout', { method: 'POST', headers: token ? bearer(token) : {} });

describe('POST /v1/auth/logout', () => {
  it('ends the current session: 204, its refresh token dies, live-session routes refuse it', async () => {
    const { orgId, owner } = await createTenant('logout');
    const { token, refreshToken, sessionId } = await tokenFor(owner);
    const other = await tokenFor(owner);
    const response = await logout(token);
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');

    const sessions = env.SESSIONS.get(env.SESSIONS.idFromName(owner.userId));
    expect(await sessions.isLive(sessionId)).toBe(false);
    await expectProblem(await refresh({ refresh_token: refreshToken }), 401);
    const me = await expectProblem(await call('/v1/auth/me', { headers: bearer(token) }), 401);
    expect(me.detail).toMatch(/signed out/);
    // Only this session: the user's other session goes on.
    expect((await call('/v1/auth/me', { headers: bearer(other.token) })).status).toBe(200);

    const [row] = await auditRows('auth.logout', (r) => r.targetId === sessionId);
    expect(row).toMatchObject({ orgId, actorType: 'user', actorId: owner.userId });
  });

  it('refuses the token once its session has ended, so a second sign-out answers 401', async () => {
    const { owner } = await createTenant('logouttwice');
    const { token } = await tokenFor(owner);
    expect((await logout(token)).status).toBe(204);
    const problem = await expectProblem(await logout(token), 401);
    expect(problem.detail).toBe('The session has been signed out');
  });

  it('answers 401 without an access token, or with a malformed one', async () => {
    const problem = await expectProblem(await logout(), 401);
    expect(problem.code).toBe('UNAUTHORIZED');
    await expectProblem(await logout('not.a.jwt'), 401);
  });
});
