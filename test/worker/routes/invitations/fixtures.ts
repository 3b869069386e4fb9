import { hashInvitationToken, newInvitationToken } from '../../../../shared/auth/invitations.ts';
import type { Role } from '../../../../shared/auth/permissions.ts';
import { invitations } from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import { testDb } from '../../helpers.ts';

/** An invitation row written straight into Postgres (for states the API cannot reach quickly). */
export async function insertInvitation(
  orgId: string,
  options: {
    email?: string;
    role?: Role;
    expiresAt?: Date;
    createdAt?: Date;
    revokedAt?: Date;
    acceptedAt?: Date;
  } = {},
) {
  const token = newInvitationToken();
  const id = newId('invitation');
  const email = options.email ?? `invitee-${id.slice(-10)}@example.com`;
  await testDb()
    .insert(invitations)
    .values({
      id,
      orgId,
      email,
      role: options.role ?? 'editor',
      tokenHash: await hashInvitationToken(token),
      expiresAt: options.expiresAt ?? new Date(Date.now() + 3_600_000),
      ...(options.createdAt ? { createdAt: options.createdAt } : {}),
      ...(options.revokedAt ? { revokedAt: options.revokedAt } : {}),
      ...(options.acceptedAt ? { acceptedAt: options.acceptedAt } : {}),
    });
  return { id, token, email };
}

export const uniqueEmail = (label: string) =>
  `${label}-${crypto.randomUUID().slice(0, 8)}@example.com`;
