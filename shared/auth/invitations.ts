import { and, eq, isNull, sql } from 'drizzle-orm';
import { sqlState } from '../db/errors.ts';
import { invitations, memberships, organizations, users } from '../db/schema/index.ts';
import { newId } from '../ids.ts';
import type { Services } from '../services.ts';
import { checkGrant, type MembershipRefusal } from './memberships.ts';
import { hashPassword, passwordProblem, verifyPassword } from './passwords.ts';
import type { Role } from './permissions.ts';
import { randomToken } from './refresh-tokens.ts';

/** Invitations are open for a week unless the inviter says otherwise (1 hour to 30 days). */
export const INVITATION_DEFAULT_HOURS = 168;
export const INVITATION_MAX_HOURS = 720;

const TOKEN_BYTES = 32;

export type InvitationRow = typeof invitations.$inferSelect;
export type InvitationStatus = 'open' | 'accepted' | 'revoked' | 'expired';

/** An invitation's state, derived from its timestamps at `now`. */
export function invitationStatus(
  row: Pick<InvitationRow, 'acceptedAt' | 'revokedAt' | 'expiresAt'>,
  now: Date = new Date(),
): InvitationStatus {
  if (row.acceptedAt) return 'accepted';
  if (row.revokedAt) return 'revoked';
  return row.expiresAt.getTime() <= now.getTime() ? 'expired' : 'open';
}

/** A new invitation token: 32 random bytes, base64url. Only its hash is stored. */
export function newInvitationToken(): string {
  return randomToken(TOKEN_BYTES);
}

/** SHA-256 of a token, lowercase hex, as `invitations.token_hash` holds it. */
export async function hashInvitationToken(token: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The actor's current role in the organisation, read from the database (null: not a member). */
async function currentRole(
  db: Services['db'],
  orgId: string,
  userId: string,
): Promise<Role | null> {
  const [row] = await db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.userId, userId)));
  return row?.role ?? null;
}

export type CreateInvitationResult =
  | { ok: true; invitation: InvitationRow; token: string; replaced: string | null }
  | { ok: false; reason: 'already_member' }
  | { ok: false; reason: 'concurrent' }
  | MembershipRefusal;

/**
 * Invites `email` into an organisation with `role`. The inviter needs `members:manage` and may
 * only grant roles at or below their own (an admin cannot invite an owner), judged on their
 * current role. An address that already belongs to a member is refused; an address with an open
 * invitation gets a new one and the old one is revoked (`replaced`), in one transaction. The
 * token is returned here and never again.
 */
export async function createInvitation(
  services: Pick<Services, 'db' | 'transaction'>,
  input: {
    orgId: string;
    actor: { userId: string; superAdmin: boolean };
    email: string;
    role: Role;
    expiresInHours: number;
  },
  now: Date = new Date(),
): Promise<CreateInvitationResult> {
  const { orgId, actor, email, role } = input;
  const check = checkGrant(
    { ...actor, role: await currentRole(services.db, orgId, actor.userId) },
    role,
  );
  if (!check.ok) return check;
  const token = newInvitationToken();
  const tokenHash = await hashInvitationToken(token);
  try {
    return await services.transaction(async (tx) => {
      const [member] = await tx
        .select({ userId: memberships.userId })
        .from(memberships)
        .innerJoin(users, eq(users.id, memberships.userId))
        .where(and(eq(memberships.orgId, orgId), sql`lower(${users.email}) = lower(${email})`));
      if (member) return { ok: false, reason: 'already_member' } as const;
      const [previous] = await tx
        .update(invitations)
        .set({ revokedAt: now })
        .where(
          and(
            eq(invitations.orgId, orgId),
            sql`lower(${invitations.email}) = lower(${email})`,
            isNull(invitations.acceptedAt),
            isNull(invitations.revokedAt),
          ),
        )
        .returning({ id: invitations.id });
      const [invitation] = await tx
        .insert(invitations)
        .values({
          id: newId('invitation'),
          orgId,
          email,
          role,
          tokenHash,
          invitedBy: actor.userId,
          expiresAt: new Date(now.getTime() + input.expiresInHours * 3_600_000),
          createdAt: now,
        })
        .returning();
      return { ok: true, invitation: invitation!, token, replaced: previous?.id ?? null } as const;
    });
  } catch (error) {
    // Another request invited the same address at the same moment: the partial unique index
    // (one open invitation per address) let exactly one of them in.
    if (sqlState(error) === '23505') return { ok: false, reason: 'concurrent' };
    throw error;
  }
}

export type RevokeInvitationResult =
  | { ok: true; invitation: InvitationRow }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'closed'; status: 'accepted' | 'revoked' };

/** Revokes an open (or expired) invitation of the organisation; accepted or revoked ones stay. */
export async function revokeInvitation(
  services: Pick<Services, 'transaction'>,
  input: { orgId: string; id: string },
  now: Date = new Date(),
): Promise<RevokeInvitationResult> {
  return services.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(invitations)
      .where(and(eq(invitations.orgId, input.orgId), eq(invitations.id, input.id)))
      .for('update');
    if (!row) return { ok: false, reason: 'not_found' };
    if (row.acceptedAt) return { ok: false, reason: 'closed', status: 'accepted' };
    if (row.revokedAt) return { ok: false, reason: 'closed', status: 'revoked' };
    const [revoked] = await tx
      .update(invitations)
      .set({ revokedAt: now })
      .where(eq(invitations.id, row.id))
      .returning();
    return { ok: true, invitation: revoked! };
  });
}

export type AcceptInvitationResult =
  | {
      ok: true;
      userId: string;
      /** The account that joined, as a sign-in needs it (tokens are issued for it). */
      user: { id: string; email: string; name: string | null; isSuperAdmin: boolean };
      createdUser: boolean;
      role: Role;
      invitationId: string;
      organization: { id: string; slug: string; name: string };
    }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'closed'; status: 'accepted' | 'revoked' | 'expired' }
  | { ok: false; reason: 'wrong_password' | 'disabled' | 'already_member' | 'raced' }
  | { ok: false; reason: 'weak_password'; problem: string };

type ClosedReason = Extract<AcceptInvitationResult, { reason: 'closed' }>;

function closed(row: InvitationRow, now: Date): ClosedReason | undefined {
  const status = invitationStatus(row, now);
  return status === 'open' ? undefined : { ok: false, reason: 'closed', status };
}

/**
 * Accepts an invitation by its token. When a user with the invited address exists, `password`
 * must be theirs; otherwise a user is created with it (after the password policy) and `name`.
 * The password work (PBKDF2) runs before the transaction; the transaction then locks the
 * invitation, checks again that it is open, and adds the membership and marks the invitation
 * accepted together, so two concurrent accepts yield exactly one membership.
 */
export async function acceptInvitation(
  services: Pick<Services, 'db' | 'transaction'>,
  input: { token: string; password: string; name?: string | undefined },
  now: Date = new Date(),
): Promise<AcceptInvitationResult> {
  const tokenHash = await hashInvitationToken(input.token);
  const [found] = await services.db
    .select()
    .from(invitations)
    .where(eq(invitations.tokenHash, tokenHash));
  if (!found) return { ok: false, reason: 'not_found' };
  const early = closed(found, now);
  if (early) return early;

  const [existing] = await services.db
    .select({
      id: users.id,
      email: users.email,
      name: users.name,
      isSuperAdmin: users.isSuperAdmin,
      passwordHash: users.passwordHash,
      disabledAt: users.disabledAt,
    })
    .from(users)
    .where(sql`lower(${users.email}) = lower(${found.email})`);
  let passwordHash: string | undefined;
  if (existing) {
    const verified = await verifyPassword(input.password, existing.passwordHash);
    if (!verified.ok) return { ok: false, reason: 'wrong_password' };
    if (existing.disabledAt) return { ok: false, reason: 'disabled' };
  } else {
    const problem = passwordProblem(input.password, { email: found.email });
    if (problem) return { ok: false, reason: 'weak_password', problem };
    passwordHash = await hashPassword(input.password);
  }

  try {
    return await services.transaction(async (tx): Promise<AcceptInvitationResult> => {
      const [row] = await tx
        .select()
        .from(invitations)
        .where(eq(invitations.id, found.id))
        .for('update');
      if (!row) return { ok: false, reason: 'not_found' };
      const late = closed(row, now);
      if (late) return late;
      const [organization] = await tx
        .select({ id: organizations.id, slug: organizations.slug, name: organizations.name })
        .from(organizations)
        .where(and(eq(organizations.id, row.orgId), isNull(organizations.deletedAt)));
      if (!organization) return { ok: false, reason: 'not_found' };
      if (existing) {
        const [member] = await tx
          .select({ userId: memberships.userId })
          .from(memberships)
          .where(and(eq(memberships.orgId, row.orgId), eq(memberships.userId, existing.id)));
        if (member) return { ok: false, reason: 'already_member' };
      }
      // Every check is done: from here on the transaction only writes.
      const userId = existing?.id ?? newId('user');
      if (!existing) {
        await tx.insert(users).values({
          id: userId,
          email: row.email,
          name: input.name ?? null,
          passwordHash: passwordHash!,
          // Holding the token proves the address received the invitation.
          emailVerifiedAt: now,
        });
      }
      await tx.insert(memberships).values({ orgId: row.orgId, userId, role: row.role });
      await tx
        .update(invitations)
        .set({ acceptedAt: now, acceptedBy: userId })
        .where(eq(invitations.id, row.id));
      return {
        ok: true,
        userId,
        user: existing
          ? {
              id: existing.id,
              email: existing.email,
              name: existing.name,
              isSuperAdmin: existing.isSuperAdmin,
            }
          : { id: userId, email: row.email, name: input.name ?? null, isSuperAdmin: false },
        createdUser: !existing,
        role: row.role,
        invitationId: row.id,
        organization,
      };
    });
  } catch (error) {
    // The address got an account (sign-up, another invitation) between the look-up and the
    // insert, so the password was checked against no one: nothing was written, ask again.
    if (sqlState(error) === '23505') return { ok: false, reason: 'raced' };
    throw error;
  }
}
