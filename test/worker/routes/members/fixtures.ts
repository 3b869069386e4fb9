import { and, desc, eq } from 'drizzle-orm';
import type { Role } from '../../../../shared/auth/permissions.ts';
import { auditLog, memberships } from '../../../../shared/db/schema/index.ts';
import { bearer, createMember, type Member, tokenFor } from '../../auth.ts';
import { eventually, testDb } from '../../helpers.ts';

/** A member of `orgId` with `role` and an access token with a live session. */
export async function signedIn(orgId: string, role: Role, options: { email?: string } = {}) {
  const member = await createMember(orgId, role, options);
  return { ...member, ...(await tokenFor(member)) };
}

/** An existing member with a fresh token. */
export async function signIn(member: Member) {
  return { ...member, ...(await tokenFor(member)) };
}

/** Request init for a JSON body, with the caller's token. */
export function jsonRequest(method: string, body: unknown, token?: string): RequestInit {
  return {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? bearer(token) : {}) },
    body: JSON.stringify(body),
  };
}

/** Waits for the audit row of `action` on `targetId` in `orgId` (the EVENTS consumer writes it). */
export function auditRow(orgId: string, action: string, targetId?: string) {
  return eventually(async () => {
    const rows = await testDb()
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.orgId, orgId),
          eq(auditLog.action, action),
          ...(targetId ? [eq(auditLog.targetId, targetId)] : []),
        ),
      )
      .orderBy(desc(auditLog.createdAt));
    return rows[0];
  });
}

/** The role `userId` has in `orgId`, or undefined when they are not a member. */
export async function roleOf(orgId: string, userId: string): Promise<Role | undefined> {
  const [row] = await testDb()
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.userId, userId)));
  return row?.role;
}
