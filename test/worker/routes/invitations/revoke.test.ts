import { describe, expect, it } from 'vitest';
import { bearer, createTenant, tokenFor } from '../../auth.ts';
import { call, expectProblem } from '../../helpers.ts';
import { auditRow, jsonRequest, signedIn } from '../members/fixtures.ts';
import { insertInvitation } from './fixtures.ts';

const revoke = (id: string, token?: string) =>
  call(`/v1/invitations/${id}`, { method: 'DELETE', headers: token ? bearer(token) : {} });

describe('DELETE /v1/invitations/{id}', () => {
  it('revokes an open invitation, so its token no longer works, and audits it', async () => {
    const { orgId, owner } = await createTenant('revoke');
    const invitation = await insertInvitation(orgId);
    const { token } = await tokenFor(owner);
    const response = await revoke(invitation.id, token);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      id: invitation.id,
      status: 'revoked',
      revoked_at: expect.stringMatching(/Z$/),
    });
    const accept = await call(
      '/v1/invitations/accept',
      jsonRequest('POST', { token: invitation.token, password: 'a long enough passphrase here' }),
    );
    expect((await expectProblem(accept, 409)).invitation_status).toBe('revoked');
    const row = await auditRow(orgId, 'invitation.revoke', invitation.id);
    expect(row).toMatchObject({ actorId: owner.userId, data: { email: invitation.email } });
  });

  it('revokes an expired invitation', async () => {
    const { orgId, owner } = await createTenant('revoke-expired');
    const invitation = await insertInvitation(orgId, { expiresAt: new Date(Date.now() - 1000) });
    const { token } = await tokenFor(owner);
    expect((await revoke(invitation.id, token)).status).toBe(200);
  });

  it.each([
    ['revoked', { revokedAt: new Date() }],
    ['accepted', { acceptedAt: new Date() }],
  ] as const)('answers 409 naming the state when it is already %s', async (state, options) => {
    const { orgId, owner } = await createTenant('revoke-closed');
    const invitation = await insertInvitation(orgId, options);
    const { token } = await tokenFor(owner);
    const problem = await expectProblem(await revoke(invitation.id, token), 409);
    expect(problem.invitation_status).toBe(state);
    expect(problem.detail).toContain(state);
  });

  it("answers 404 for another organisation's invitation, with nothing of theirs", async () => {
    const mine = await createTenant('revoke-mine');
    const theirs = await createTenant('revoke-theirs');
    const invitation = await insertInvitation(theirs.orgId);
    const { token } = await tokenFor(mine.owner);
    const response = await revoke(invitation.id, token);
    const text = await response.clone().text();
    // Only `instance` (the path the caller asked for) may carry the id they sent.
    const { instance, ...problem } = await expectProblem(response, 404);
    expect(instance).toContain(invitation.id);
    expect(JSON.stringify(problem)).not.toContain(invitation.id);
    expect(text).not.toContain(invitation.email);
    // Still open for its own organisation.
    const { token: theirToken } = await tokenFor(theirs.owner);
    expect((await revoke(invitation.id, theirToken)).status).toBe(200);
  });

  it('answers 400 naming the path for a malformed id', async () => {
    const { owner } = await createTenant('revoke-badid');
    const { token } = await tokenFor(owner);
    const problem = await expectProblem(await revoke('inv_nope', token), 400);
    expect(problem.errors?.map((e) => e.path)).toEqual(['path.id']);
  });

  it('answers 403 to an author, who lacks members:manage', async () => {
    const { orgId } = await createTenant('revoke-author');
    const invitation = await insertInvitation(orgId);
    const author = await signedIn(orgId, 'author');
    await expectProblem(await revoke(invitation.id, author.token), 403);
  });

  it('answers 401 without credentials', async () => {
    const { orgId } = await createTenant('revoke-anon');
    const invitation = await insertInvitation(orgId);
    await expectProblem(await revoke(invitation.id), 401);
  });
});
