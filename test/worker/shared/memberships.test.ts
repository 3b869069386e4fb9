import { env } from 'cloudflare:workers';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import {
  changeRole,
  checkGrant,
  checkRemoval,
  checkRoleChange,
  type MembershipActor,
  removeMember,
} from '../../../shared/auth/memberships.ts';
import type { Role } from '../../../shared/auth/permissions.ts';
import { pooledDatabase } from '../../../shared/db/client.ts';
import { memberships } from '../../../shared/db/schema/index.ts';
import { validateEnv } from '../../../shared/env.ts';
import { createMember, createTenant } from '../auth.ts';
import { testDb } from '../helpers.ts';

const actor = (role: Role | null, superAdmin = false): MembershipActor => ({
  userId: 'usr_actor',
  role,
  superAdmin,
});
const target = (role: Role, userId = 'usr_target') => ({ userId, role });

/** The `transaction` service, as the Worker builds it, for calling the library directly. */
function transactions() {
  const validated = validateEnv(env);
  if (!validated.ok) throw new Error('test env invalid');
  const settings = validated.env;
  return {
    async transaction<T>(fn: (tx: ReturnType<typeof pooledDatabase>['db']) => Promise<T>) {
      const { db, pool } = pooledDatabase(settings);
      try {
        return await db.transaction((tx) => fn(tx as unknown as typeof db));
      } finally {
        await pool.end();
      }
    },
  };
}

async function ownersOf(orgId: string) {
  return testDb()
    .select({ userId: memberships.userId })
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.role, 'owner')));
}

describe('checkGrant', () => {
  it.each([
    ['owner', 'owner'],
    ['owner', 'viewer'],
    ['admin', 'admin'],
    ['admin', 'editor'],
  ] as const)('lets a %s grant %s', (own, role) => {
    expect(checkGrant(actor(own), role)).toEqual({ ok: true });
  });

  it('refuses an admin granting owner (owner_only)', () => {
    expect(checkGrant(actor('admin'), 'owner')).toMatchObject({ ok: false, reason: 'owner_only' });
  });

  it.each(['editor', 'author', 'viewer'] as const)(
    'refuses a %s, who cannot manage members',
    (own) => {
      expect(checkGrant(actor(own), 'viewer')).toMatchObject({ ok: false, reason: 'permission' });
    },
  );

  it('refuses someone who is no longer a member', () => {
    expect(checkGrant(actor(null), 'viewer')).toMatchObject({ ok: false, reason: 'not_member' });
  });

  it('lets a super admin grant any role, member or not', () => {
    expect(checkGrant(actor(null, true), 'owner')).toEqual({ ok: true });
  });
});

describe('checkRoleChange', () => {
  it('lets an admin change an editor to admin', () => {
    expect(checkRoleChange(actor('admin'), target('editor'), 'admin', 1)).toEqual({ ok: true });
  });

  it('lets an admin change another admin (same rank)', () => {
    expect(checkRoleChange(actor('admin'), target('admin'), 'viewer', 1)).toEqual({ ok: true });
  });

  it('refuses an admin changing an owner (owner_only)', () => {
    expect(checkRoleChange(actor('admin'), target('owner'), 'viewer', 2)).toMatchObject({
      ok: false,
      reason: 'owner_only',
    });
  });

  it('refuses an admin promoting anyone to owner (owner_only)', () => {
    expect(checkRoleChange(actor('admin'), target('editor'), 'owner', 1)).toMatchObject({
      ok: false,
      reason: 'owner_only',
    });
  });

  it('lets an owner demote another owner while one remains', () => {
    expect(checkRoleChange(actor('owner'), target('owner'), 'admin', 2)).toEqual({ ok: true });
  });

  it('refuses demoting the last owner (last_owner)', () => {
    expect(checkRoleChange(actor('owner', false), target('owner'), 'admin', 1)).toMatchObject({
      ok: false,
      reason: 'last_owner',
    });
  });

  it('allows "changing" the last owner to owner (no demotion)', () => {
    expect(checkRoleChange(actor('owner'), target('owner'), 'owner', 1)).toEqual({ ok: true });
  });

  it('checks authority before the last-owner rule (an admin learns nothing about owners)', () => {
    expect(checkRoleChange(actor('admin'), target('owner'), 'viewer', 1)).toMatchObject({
      reason: 'owner_only',
    });
  });

  it('refuses a viewer changing anyone (permission)', () => {
    expect(checkRoleChange(actor('viewer'), target('viewer'), 'viewer', 1)).toMatchObject({
      reason: 'permission',
    });
  });
});

describe('checkRemoval', () => {
  it('lets any member leave', () => {
    expect(checkRemoval(actor('viewer'), target('viewer', 'usr_actor'), 1)).toEqual({ ok: true });
  });

  it('lets an owner leave while another owner remains', () => {
    expect(checkRemoval(actor('owner'), target('owner', 'usr_actor'), 2)).toEqual({ ok: true });
  });

  it('refuses the last owner leaving (last_owner)', () => {
    expect(checkRemoval(actor('owner'), target('owner', 'usr_actor'), 1)).toMatchObject({
      ok: false,
      reason: 'last_owner',
    });
  });

  it('refuses a viewer removing someone else (permission)', () => {
    expect(checkRemoval(actor('viewer'), target('viewer'), 1)).toMatchObject({
      reason: 'permission',
    });
  });

  it('refuses an admin removing an owner (owner_only)', () => {
    expect(checkRemoval(actor('admin'), target('owner'), 3)).toMatchObject({
      reason: 'owner_only',
    });
  });

  it('lets an admin remove an author', () => {
    expect(checkRemoval(actor('admin'), target('author'), 1)).toEqual({ ok: true });
  });
});

describe('changeRole and removeMember (with the database)', () => {
  it('never leaves zero owners when two owners are demoted concurrently', async () => {
    const { orgId, owner } = await createTenant('race-demote');
    const second = await createMember(orgId, 'owner');
    const superAdmin = { userId: 'usr_platform', superAdmin: true };
    const services = transactions();
    const results = await Promise.all(
      [owner.userId, second.userId].map((targetUserId) =>
        changeRole(services, { orgId, actor: superAdmin, targetUserId, role: 'admin' }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual([
      expect.objectContaining({ ok: false, reason: 'last_owner' }),
    ]);
    expect(await ownersOf(orgId)).toHaveLength(1);
  });

  it('never leaves zero owners when two owners leave concurrently', async () => {
    const { orgId, owner } = await createTenant('race-leave');
    const second = await createMember(orgId, 'owner');
    const services = transactions();
    const results = await Promise.all(
      [owner, second].map((member) =>
        removeMember(services, {
          orgId,
          actor: { userId: member.userId, superAdmin: false },
          targetUserId: member.userId,
        }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.find((r) => !r.ok)).toMatchObject({ reason: 'last_owner' });
    expect(await ownersOf(orgId)).toHaveLength(1);
  });

  it('judges the actor by their current role, not the one their token carries', async () => {
    const { orgId } = await createTenant('stale-role');
    const demoted = await createMember(orgId, 'viewer');
    const editor = await createMember(orgId, 'editor');
    const result = await changeRole(transactions(), {
      orgId,
      actor: { userId: demoted.userId, superAdmin: false },
      targetUserId: editor.userId,
      role: 'viewer',
    });
    expect(result).toMatchObject({ ok: false, reason: 'permission' });
  });

  it('answers not_found for a user of another organisation', async () => {
    const { orgId, owner } = await createTenant('mine');
    const other = await createTenant('theirs');
    const result = await removeMember(transactions(), {
      orgId,
      actor: { userId: owner.userId, superAdmin: false },
      targetUserId: other.owner.userId,
    });
    expect(result).toEqual({ ok: false, reason: 'not_found' });
  });
});
