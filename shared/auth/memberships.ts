import { and, eq, inArray, or } from 'drizzle-orm';
import type { PooledDatabase } from '../db/client.ts';
import { memberships, users } from '../db/schema/index.ts';
import type { Services } from '../services.ts';
import { permissionsOf, ROLE_RANK, type Role } from './permissions.ts';

/**
 * Who is changing the membership, with their role as the database holds it now (not as their
 * access token says: a token lives 15 minutes, and a demoted owner must not use those minutes to
 * promote themselves back). `role` is null when they are no longer a member. A super admin acts
 * with an owner's rank in any organisation, member or not.
 */
export type MembershipActor = { userId: string; role: Role | null; superAdmin: boolean };

/** The member a change is about. */
export type MembershipTarget = { userId: string; role: Role };

/**
 * Why a change is refused. `last_owner` is a conflict with the organisation's state (409);
 * every other reason is the actor's lack of authority (403).
 */
export type MembershipRefusal = {
  ok: false;
  reason: 'not_member' | 'permission' | 'owner_only' | 'role_rank' | 'target_rank' | 'last_owner';
  message: string;
};
export type MembershipCheck = { ok: true } | MembershipRefusal;

const OK: MembershipCheck = { ok: true };

const refuse = (reason: MembershipRefusal['reason'], message: string): MembershipRefusal => ({
  ok: false,
  reason,
  message,
});

/** The actor's rank (0 = owner), or undefined when they are not a member. */
function rankOf(actor: MembershipActor): number | undefined {
  if (actor.superAdmin) return ROLE_RANK.owner;
  return actor.role === null ? undefined : ROLE_RANK[actor.role];
}

/** Checks the actor may manage members at all and may grant `role` (invitations, role changes). */
export function checkGrant(actor: MembershipActor, role: Role): MembershipCheck {
  const rank = rankOf(actor);
  if (rank === undefined)
    return refuse('not_member', 'You are no longer a member of this organisation');
  if (!actor.superAdmin && !permissionsOf(actor.role!).has('members:manage')) {
    return refuse('permission', `The ${actor.role} role cannot manage members`);
  }
  if (role === 'owner' && rank !== ROLE_RANK.owner) {
    return refuse('owner_only', 'Only an owner may grant the owner role');
  }
  if (ROLE_RANK[role] < rank) {
    return refuse(
      'role_rank',
      `A ${actor.role} cannot grant the ${role} role, which outranks theirs`,
    );
  }
  return OK;
}

/** Checks the actor may change or remove `target` (someone ranked at or below them). */
function checkAuthority(actor: MembershipActor, target: MembershipTarget): MembershipCheck {
  const rank = rankOf(actor);
  if (rank === undefined)
    return refuse('not_member', 'You are no longer a member of this organisation');
  if (!actor.superAdmin && !permissionsOf(actor.role!).has('members:manage')) {
    return refuse('permission', `The ${actor.role} role cannot manage members`);
  }
  if (target.role === 'owner' && rank !== ROLE_RANK.owner) {
    return refuse('owner_only', 'Only an owner may change or remove an owner');
  }
  if (ROLE_RANK[target.role] < rank) {
    return refuse(
      'target_rank',
      `A ${actor.role} cannot change a ${target.role}, who outranks them`,
    );
  }
  return OK;
}

const lastOwner = (verb: string) =>
  refuse(
    'last_owner',
    `The last owner of an organisation cannot be ${verb}; make another member owner first`,
  );

/**
 * Whether `actor` may give `target` the role `role`, given how many owners the organisation has
 * (`owners`, counted under lock). Rules: the actor needs `members:manage`; only an owner may
 * grant the owner role or change an owner; otherwise the target and the new role must both rank
 * at or below the actor; the last owner can never be demoted.
 */
export function checkRoleChange(
  actor: MembershipActor,
  target: MembershipTarget,
  role: Role,
  owners: number,
): MembershipCheck {
  const authority = checkAuthority(actor, target);
  if (!authority.ok) return authority;
  const grant = checkGrant(actor, role);
  if (!grant.ok) return grant;
  if (target.role === 'owner' && role !== 'owner' && owners <= 1) return lastOwner('demoted');
  return OK;
}

/**
 * Whether `actor` may remove `target`. Anyone may remove themselves (leave); removing someone
 * else follows the role-change rules. The last owner can never be removed, not even by
 * themselves.
 */
export function checkRemoval(
  actor: MembershipActor,
  target: MembershipTarget,
  owners: number,
): MembershipCheck {
  if (actor.userId !== target.userId) {
    const authority = checkAuthority(actor, target);
    if (!authority.ok) return authority;
  }
  if (target.role === 'owner' && owners <= 1) return lastOwner('removed');
  return OK;
}

/** A member as the API shows them. */
export type Member = {
  userId: string;
  email: string;
  name: string | null;
  role: Role;
  joinedAt: Date;
};

export type MembershipResult<T> =
  | ({ ok: true } & T)
  | { ok: false; reason: 'not_found' }
  | MembershipRefusal;

type ChangeInput = {
  orgId: string;
  actor: { userId: string; superAdmin: boolean };
  targetUserId: string;
};

/**
 * Locks, in one statement and in user-id order, the rows the decision depends on: every owner of
 * the organisation, the actor and the target. Every membership change takes the same locks in
 * the same order, so two concurrent changes serialise instead of deadlocking, and the second
 * one counts the owners as the first left them (READ COMMITTED re-checks a locked row's
 * `role = 'owner'` after the wait, so a just-demoted owner drops out of the count).
 */
async function lockMembers(tx: PooledDatabase, { orgId, actor, targetUserId }: ChangeInput) {
  const rows = await tx
    .select({ userId: memberships.userId, role: memberships.role })
    .from(memberships)
    .where(
      and(
        eq(memberships.orgId, orgId),
        or(
          eq(memberships.role, 'owner'),
          inArray(memberships.userId, [actor.userId, targetUserId]),
        ),
      ),
    )
    .orderBy(memberships.userId)
    .for('update');
  const find = (userId: string) => rows.find((row) => row.userId === userId);
  return {
    target: find(targetUserId),
    actor: {
      userId: actor.userId,
      role: find(actor.userId)?.role ?? null,
      superAdmin: actor.superAdmin,
    } satisfies MembershipActor,
    owners: rows.filter((row) => row.role === 'owner').length,
  };
}

async function memberView(tx: PooledDatabase, orgId: string, userId: string): Promise<Member> {
  const [row] = await tx
    .select({
      userId: memberships.userId,
      email: users.email,
      name: users.name,
      role: memberships.role,
      joinedAt: memberships.createdAt,
    })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.orgId, orgId), eq(memberships.userId, userId)));
  if (!row) throw new Error(`membership ${orgId}/${userId} vanished inside its transaction`);
  return row;
}

/**
 * Gives a member a new role, in one transaction with the rule checks (see `checkRoleChange`).
 * `before` is the role they had; the change reaches their access tokens at the next refresh.
 */
export async function changeRole(
  services: Pick<Services, 'transaction'>,
  input: ChangeInput & { role: Role },
): Promise<MembershipResult<{ before: Role; member: Member }>> {
  return services.transaction(async (tx) => {
    const locked = await lockMembers(tx, input);
    if (!locked.target) return { ok: false, reason: 'not_found' };
    const check = checkRoleChange(locked.actor, locked.target, input.role, locked.owners);
    if (!check.ok) return check;
    if (locked.target.role !== input.role) {
      await tx
        .update(memberships)
        .set({ role: input.role })
        .where(and(eq(memberships.orgId, input.orgId), eq(memberships.userId, input.targetUserId)));
    }
    return {
      ok: true,
      before: locked.target.role,
      member: await memberView(tx, input.orgId, input.targetUserId),
    };
  });
}

/** Removes a member (or lets one leave), in one transaction with `checkRemoval`. */
export async function removeMember(
  services: Pick<Services, 'transaction'>,
  input: ChangeInput,
): Promise<MembershipResult<{ member: Member }>> {
  return services.transaction(async (tx) => {
    const locked = await lockMembers(tx, input);
    if (!locked.target) return { ok: false, reason: 'not_found' };
    const check = checkRemoval(locked.actor, locked.target, locked.owners);
    if (!check.ok) return check;
    const member = await memberView(tx, input.orgId, input.targetUserId);
    await tx
      .delete(memberships)
      .where(and(eq(memberships.orgId, input.orgId), eq(memberships.userId, input.targetUserId)));
    return { ok: true, member };
  });
}
