import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { hashInvitationToken } from '../../../../shared/auth/invitations.ts';
import { invitations } from '../../../../shared/db/schema/index.ts';
import { createMember, createTenant, tokenFor } from '../../auth.ts';
import { call, expectProblem, testDb } from '../../helpers.ts';
import { auditRow, jsonRequest, signedIn } from '../members/fixtures.ts';
import { uniqueEmail } from './fixtures.ts';

type Created = {
  invitation: {
    id: string;
    email: string;
    role: string;
    status: string;
    invited_by: string;
    created_at: string;
    expires_at: string;
    accepted_at: null;
    accepted_by: null;
    revoked_at: null;
  };
  token: string;
};

const invite = (body: unknown, token?: string) =>
  call('/v1/invitations', jsonRequest('POST', body, token));

describe('POST /v1/invitations', () => {
  it('creates an open invitation, shows its token once and stores only its hash', async () => {
    const { orgId, owner } = await createTenant('invite');
    const { token } = await tokenFor(owner);
    const email = uniqueEmail('grace');
    const response = await invite({ email, role: 'editor' }, token);
    expect(response.status).toBe(201);
    const body = (await response.json()) as Created;
    expect(body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.invitation).toMatchObject({
      email,
      role: 'editor',
      status: 'open',
      invited_by: owner.userId,
      accepted_at: null,
      revoked_at: null,
    });
    const lifetime =
      Date.parse(body.invitation.expires_at) - Date.parse(body.invitation.created_at);
    expect(lifetime).toBe(168 * 3_600_000);
    const [row] = await testDb()
      .select()
      .from(invitations)
      .where(eq(invitations.id, body.invitation.id));
    expect(row?.tokenHash).toBe(await hashInvitationToken(body.token));
    expect(JSON.stringify(row)).not.toContain(body.token);
    const audited = await auditRow(orgId, 'invitation.create', body.invitation.id);
    expect(audited).toMatchObject({ actorId: owner.userId, data: { email, role: 'editor' } });
    expect(JSON.stringify(audited)).not.toContain(body.token);
  });

  it('honours expires_in_hours', async () => {
    const { owner } = await createTenant('invite-hours');
    const { token } = await tokenFor(owner);
    const response = await invite(
      { email: uniqueEmail('h'), role: 'viewer', expires_in_hours: 1 },
      token,
    );
    const { invitation } = (await response.json()) as Created;
    expect(Date.parse(invitation.expires_at) - Date.parse(invitation.created_at)).toBe(3_600_000);
  });

  it('revokes the open invitation of an address invited again', async () => {
    const { orgId, owner } = await createTenant('invite-again');
    const { token } = await tokenFor(owner);
    const email = uniqueEmail('again');
    const first = (await (await invite({ email, role: 'viewer' }, token)).json()) as Created;
    const response = await invite({ email: email.toUpperCase(), role: 'author' }, token);
    expect(response.status).toBe(201);
    const second = (await response.json()) as Created;
    const rows = await testDb().select().from(invitations).where(eq(invitations.orgId, orgId));
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(first.invitation.id)?.revokedAt).not.toBeNull();
    expect(byId.get(second.invitation.id)?.revokedAt).toBeNull();
    const audited = await auditRow(orgId, 'invitation.create', second.invitation.id);
    expect(audited.data).toMatchObject({ replaced: first.invitation.id });
  });

  it.each([
    [{ role: 'viewer' }, 'body.email'],
    [{ email: 'not-an-address', role: 'viewer' }, 'body.email'],
    [{ email: 'a@example.com' }, 'body.role'],
    [{ email: 'a@example.com', role: 'superuser' }, 'body.role'],
    [{ email: 'a@example.com', role: 'viewer', expires_in_hours: 0 }, 'body.expires_in_hours'],
    [{ email: 'a@example.com', role: 'viewer', expires_in_hours: 721 }, 'body.expires_in_hours'],
    [{ email: 'a@example.com', role: 'viewer', expires_in_hours: 1.5 }, 'body.expires_in_hours'],
  ])('answers 400 naming the field for %j', async (body, path) => {
    const { orgId, owner } = await createTenant('invite-bad');
    const { token } = await tokenFor(owner);
    const problem = await expectProblem(await invite(body, token), 400);
    expect(problem.errors?.map((e) => e.path)).toEqual([path]);
    expect(await testDb().select().from(invitations).where(eq(invitations.orgId, orgId))).toEqual(
      [],
    );
  });

  it('answers 403 (owner_only) when an admin invites an owner', async () => {
    const { orgId } = await createTenant('invite-admin');
    const admin = await signedIn(orgId, 'admin');
    const problem = await expectProblem(
      await invite({ email: uniqueEmail('o'), role: 'owner' }, admin.token),
      403,
    );
    expect(problem.rule).toBe('owner_only');
  });

  it('lets an admin invite an admin', async () => {
    const { orgId } = await createTenant('invite-admin-ok');
    const admin = await signedIn(orgId, 'admin');
    expect((await invite({ email: uniqueEmail('a'), role: 'admin' }, admin.token)).status).toBe(
      201,
    );
  });

  it('answers 403 to an editor, who lacks members:manage', async () => {
    const { orgId } = await createTenant('invite-editor');
    const editor = await signedIn(orgId, 'editor');
    const problem = await expectProblem(
      await invite({ email: uniqueEmail('e'), role: 'viewer' }, editor.token),
      403,
    );
    expect(problem.permission).toBe('members:manage');
  });

  it('answers 409 for an address that is already a member', async () => {
    const { orgId, owner } = await createTenant('invite-member');
    const member = await createMember(orgId, 'viewer');
    const { token } = await tokenFor(owner);
    const problem = await expectProblem(
      await invite({ email: member.email.toUpperCase(), role: 'editor' }, token),
      409,
    );
    expect(problem.rule).toBe('already_member');
  });

  it('invites a member of another organisation (users are platform-wide)', async () => {
    const { owner } = await createTenant('invite-cross');
    const other = await createTenant('invite-cross-other');
    const { token } = await tokenFor(owner);
    expect((await invite({ email: other.owner.email, role: 'viewer' }, token)).status).toBe(201);
  });

  it('answers 401 without credentials', async () => {
    await expectProblem(await invite({ email: uniqueEmail('x'), role: 'viewer' }), 401);
  });
});
