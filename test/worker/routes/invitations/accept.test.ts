import { and, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { verifyPassword } from '../../../../shared/auth/passwords.ts';
import { invitations, memberships, users } from '../../../../shared/db/schema/index.ts';
import { bearer, createMember, createTenant, TEST_PASSWORD, tokenFor } from '../../auth.ts';
import { call, expectProblem, testDb } from '../../helpers.ts';
import { auditRow, jsonRequest, roleOf } from '../members/fixtures.ts';
import { insertInvitation, uniqueEmail } from './fixtures.ts';

const NEW_PASSWORD = 'violet lighthouse under snow';

const accept = (body: unknown) => call('/v1/invitations/accept', jsonRequest('POST', body));

type Tokens = {
  access_token: string;
  refresh_token: string;
  session_id: string;
  user: { id: string; email: string };
  organization: { id: string; role: string };
};

/** What the API makes of an access token. */
async function whoami(token: string) {
  const response = await call('/v1/whoami', { headers: bearer(token) });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

async function userByEmail(email: string) {
  const [row] = await testDb()
    .select()
    .from(users)
    .where(sql`lower(${users.email}) = lower(${email})`);
  return row;
}

async function invitationRow(id: string) {
  const [row] = await testDb().select().from(invitations).where(eq(invitations.id, id));
  return row!;
}

describe('POST /v1/invitations/accept', () => {
  it('creates the account and the membership for a new address, signs in, and audits it', async () => {
    const { orgId } = await createTenant('accept-new');
    const invitation = await insertInvitation(orgId, { role: 'author' });
    const response = await accept({
      token: invitation.token,
      password: NEW_PASSWORD,
      name: 'Grace',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as Tokens;
    expect(body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
      refresh_token: expect.any(String),
      session_id: expect.stringMatching(/^ses_/),
      user: { id: expect.stringMatching(/^usr_/), email: invitation.email, name: 'Grace' },
      organization: {
        id: orgId,
        slug: expect.stringMatching(/^accept-new-/),
        name: 'accept-new test',
        role: 'author',
      },
    });
    const userId = body.user.id;
    const user = await userByEmail(invitation.email);
    expect(user).toMatchObject({ id: userId, name: 'Grace' });
    expect((await verifyPassword(NEW_PASSWORD, user!.passwordHash)).ok).toBe(true);
    expect(await roleOf(orgId, userId)).toBe('author');
    expect(await invitationRow(invitation.id)).toMatchObject({ acceptedBy: userId });
    expect(await whoami(body.access_token)).toMatchObject({
      kind: 'user',
      user_id: userId,
      org_id: orgId,
      role: 'author',
      session_id: body.session_id,
    });
    const row = await auditRow(orgId, 'invitation.accept', invitation.id);
    expect(row).toMatchObject({
      actorType: 'user',
      actorId: userId,
      data: { role: 'author', new_user: true, session_id: body.session_id },
    });
    expect(JSON.stringify(row)).not.toContain(invitation.token);
    expect(JSON.stringify(row)).not.toContain(NEW_PASSWORD);
    expect(JSON.stringify(row)).not.toContain(body.refresh_token);
  });

  it('signs an existing user in to the organisation joined, not their first one', async () => {
    const { orgId } = await createTenant('accept-existing');
    const other = await createTenant('accept-existing-home');
    const invitation = await insertInvitation(orgId, {
      email: other.owner.email.toUpperCase(),
      role: 'viewer',
    });
    const response = await accept({ token: invitation.token, password: TEST_PASSWORD });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Tokens;
    expect(body).toMatchObject({
      user: { id: other.owner.userId, email: other.owner.email },
      organization: { id: orgId, role: 'viewer' },
    });
    expect(await roleOf(orgId, other.owner.userId)).toBe('viewer');
    expect(await roleOf(other.orgId, other.owner.userId)).toBe('owner');
    expect(await whoami(body.access_token)).toMatchObject({ org_id: orgId, role: 'viewer' });
    // The refresh token is a live session's: it rotates into new tokens for the same organisation.
    const refreshed = await call(
      '/v1/auth/refresh',
      jsonRequest('POST', { refresh_token: body.refresh_token }),
    );
    expect(refreshed.status).toBe(200);
    expect(await refreshed.json()).toMatchObject({
      session_id: body.session_id,
      organization: { id: orgId, role: 'viewer' },
    });
  });

  it('answers 401 when an existing user gives the wrong password, adding nothing', async () => {
    const { orgId } = await createTenant('accept-wrong');
    const other = await createTenant('accept-wrong-home');
    const invitation = await insertInvitation(orgId, { email: other.owner.email });
    const problem = await expectProblem(
      await accept({ token: invitation.token, password: 'not the right password at all' }),
      401,
    );
    expect(problem.code).toBe('UNAUTHORIZED');
    expect(await roleOf(orgId, other.owner.userId)).toBeUndefined();
    expect((await invitationRow(invitation.id)).acceptedAt).toBeNull();
  });

  it('answers 400 naming body.password when a new password breaks the policy', async () => {
    const { orgId } = await createTenant('accept-weak');
    const invitation = await insertInvitation(orgId);
    for (const password of ['short', 'password1234']) {
      const problem = await expectProblem(await accept({ token: invitation.token, password }), 400);
      expect(problem.errors?.map((e) => e.path)).toEqual(['body.password']);
    }
    expect(await userByEmail(invitation.email)).toBeUndefined();
    expect((await invitationRow(invitation.id)).acceptedAt).toBeNull();
  });

  it.each([
    [{ password: NEW_PASSWORD }, 'body.token'],
    [{ token: 'x' }, 'body.password'],
    [{ token: 'x', password: NEW_PASSWORD, name: '' }, 'body.name'],
  ])('answers 400 naming the field for %j', async (body, path) => {
    const problem = await expectProblem(await accept(body), 400);
    expect(problem.errors?.map((e) => e.path)).toEqual([path]);
  });

  it('answers 404 for an unknown token', async () => {
    const problem = await expectProblem(
      await accept({ token: 'no-such-invitation-token', password: NEW_PASSWORD }),
      404,
    );
    expect(problem.code).toBe('NOT_FOUND');
  });

  it('answers 409 naming "expired" for an invitation past its expiry', async () => {
    const { orgId } = await createTenant('accept-expired');
    const invitation = await insertInvitation(orgId, { expiresAt: new Date(Date.now() - 60_000) });
    const problem = await expectProblem(
      await accept({ token: invitation.token, password: NEW_PASSWORD }),
      409,
    );
    expect(problem.invitation_status).toBe('expired');
    expect(problem.detail).toContain('expired');
    expect(await userByEmail(invitation.email)).toBeUndefined();
  });

  it('answers 409 naming "revoked" for a revoked invitation', async () => {
    const { orgId } = await createTenant('accept-revoked');
    const invitation = await insertInvitation(orgId, { revokedAt: new Date() });
    const problem = await expectProblem(
      await accept({ token: invitation.token, password: NEW_PASSWORD }),
      409,
    );
    expect(problem.invitation_status).toBe('revoked');
  });

  it('answers 409 naming "accepted" the second time', async () => {
    const { orgId } = await createTenant('accept-twice');
    const invitation = await insertInvitation(orgId);
    expect((await accept({ token: invitation.token, password: NEW_PASSWORD })).status).toBe(200);
    const problem = await expectProblem(
      await accept({ token: invitation.token, password: NEW_PASSWORD }),
      409,
    );
    expect(problem.invitation_status).toBe('accepted');
  });

  it('yields exactly one membership when accepted twice at the same moment', async () => {
    const { orgId } = await createTenant('accept-race');
    const invitation = await insertInvitation(orgId);
    const responses = await Promise.all(
      [1, 2].map(() => accept({ token: invitation.token, password: NEW_PASSWORD })),
    );
    expect(responses.map((r) => r.status).sort()).toEqual([200, 409]);
    const user = await userByEmail(invitation.email);
    const rows = await testDb()
      .select()
      .from(memberships)
      .where(and(eq(memberships.orgId, orgId), eq(memberships.userId, user!.id)));
    expect(rows).toHaveLength(1);
  });

  it('answers 409 when the account is already a member', async () => {
    const { orgId } = await createTenant('accept-member');
    const member = await createMember(orgId, 'viewer');
    const invitation = await insertInvitation(orgId, { email: member.email, role: 'admin' });
    const problem = await expectProblem(
      await accept({ token: invitation.token, password: TEST_PASSWORD }),
      409,
    );
    expect(problem.rule).toBe('already_member');
    expect(await roleOf(orgId, member.userId)).toBe('viewer');
  });

  it('lets an invited user in with a token accepted through the API end to end', async () => {
    const { orgId, owner } = await createTenant('accept-e2e');
    const { token } = await tokenFor(owner);
    const email = uniqueEmail('e2e');
    const created = await call(
      '/v1/invitations',
      jsonRequest('POST', { email, role: 'editor' }, token),
    );
    const { token: invitationToken } = (await created.json()) as { token: string };
    const response = await accept({ token: invitationToken, password: NEW_PASSWORD });
    expect(response.status).toBe(200);
    const { user, access_token } = (await response.json()) as Tokens;
    expect(await roleOf(orgId, user.id)).toBe('editor');
    // The editor writes at once with the token the acceptance gave.
    const written = await call('/v1/content', {
      method: 'POST',
      headers: { ...bearer(access_token), 'Content-Type': 'application/json' },
      body: JSON.stringify({ translations: { en: { title: 'First day' } } }),
    });
    expect(written.status).toBe(202);
  });
});
