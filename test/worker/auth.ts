import { env } from 'cloudflare:workers';
import { hashPassword } from '../../shared/auth/passwords.ts';
import type { Role } from '../../shared/auth/permissions.ts';
import { SigningJwk, signAccessToken } from '../../shared/auth/tokens.ts';
import { memberships, users } from '../../shared/db/schema/index.ts';
import { newId } from '../../shared/ids.ts';
import { createOrg, testDb } from './helpers.ts';

/** A password that passes the policy, used by every test account unless one is given. */
export const TEST_PASSWORD = 'correct horse battery staple';

export type Member = {
  userId: string;
  orgId: string;
  role: Role;
  email: string;
  password: string;
  superAdmin: boolean;
};

// PBKDF2 at 100,000 iterations costs ~50 ms; tests share one hash of the default password.
let defaultHash: Promise<string> | undefined;

/** A user with a password, made a member of `orgId` with `role` (straight into Postgres). */
export async function createMember(
  orgId: string,
  role: Role,
  options: { email?: string; password?: string; superAdmin?: boolean } = {},
): Promise<Member> {
  const userId = newId('user');
  const email = options.email ?? `${role}-${userId.slice(-10)}@example.com`;
  const password = options.password ?? TEST_PASSWORD;
  defaultHash ??= hashPassword(TEST_PASSWORD);
  const passwordHash =
    options.password === undefined ? await defaultHash : await hashPassword(password);
  const db = testDb();
  await db.insert(users).values({
    id: userId,
    email,
    name: `Test ${role}`,
    passwordHash,
    isSuperAdmin: options.superAdmin ?? false,
  });
  await db.insert(memberships).values({ orgId, userId, role });
  return { userId, orgId, role, email, password, superAdmin: options.superAdmin ?? false };
}

/** A fresh organisation with an owner. */
export async function createTenant(label: string): Promise<{ orgId: string; owner: Member }> {
  const orgId = await createOrg(label);
  return { orgId, owner: await createMember(orgId, 'owner') };
}

export const signingKeys = () => ({
  current: SigningJwk.parse(JSON.parse(env.AUTH_SIGNING_KEY)),
  previous: SigningJwk.parse(
    JSON.parse((env as unknown as Record<string, string>).AUTH_PREVIOUS_SIGNING_KEY!),
  ),
});

export const audience = () => ({ issuer: env.AUTH_ISSUER, audience: env.AUTH_AUDIENCE });

/**
 * An access token for `member`, with a live session in their `SESSIONS` object (so routes that
 * check the session accept it), as login would give, without the PBKDF2 cost of logging in.
 */
export async function tokenFor(
  member: Pick<Member, 'userId' | 'orgId' | 'role' | 'superAdmin'>,
  options: { now?: number } = {},
): Promise<{ token: string; sessionId: string; refreshToken: string }> {
  const sessionId = newId('session');
  const sessions = env.SESSIONS.get(env.SESSIONS.idFromName(member.userId));
  const { refreshToken } = await sessions.create({
    sessionId,
    orgId: member.orgId,
    ip: '203.0.113.10',
    userAgent: 'vitest',
  });
  const { token } = await signAccessToken(
    signingKeys(),
    {
      sub: member.userId,
      org: member.orgId,
      role: member.role,
      sid: sessionId,
      ...(member.superAdmin ? { sa: true as const } : {}),
    },
    audience(),
    options.now,
  );
  return { token, sessionId, refreshToken };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
