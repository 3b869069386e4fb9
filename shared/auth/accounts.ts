import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { pgError } from '../db/errors.ts';
import { memberships, organizations, users } from '../db/schema/index.ts';
import { newId } from '../ids.ts';
import type { Services } from '../services.ts';
import { slugify, transliterateArabic } from '../text/slug.ts';
import type { Role } from './permissions.ts';

/** What sign-in needs to know about a user. */
export type AccountUser = {
  id: string;
  email: string;
  name: string | null;
  passwordHash: string | null;
  isSuperAdmin: boolean;
  disabledAt: Date | null;
};

/** An organisation the user belongs to, with their role in it. */
export type OrgMembership = { id: string; slug: string; name: string; role: Role };

const userColumns = {
  id: users.id,
  email: users.email,
  name: users.name,
  passwordHash: users.passwordHash,
  isSuperAdmin: users.isSuperAdmin,
  disabledAt: users.disabledAt,
};

/** The user with this address, compared case-insensitively (the unique index is on lower()). */
export async function findUserByEmail(
  db: Services['db'],
  email: string,
): Promise<AccountUser | undefined> {
  const [user] = await db
    .select(userColumns)
    .from(users)
    .where(sql`lower(${users.email}) = lower(${email.trim()})`)
    .limit(1);
  return user;
}

export async function findUser(db: Services['db'], id: string): Promise<AccountUser | undefined> {
  const [user] = await db.select(userColumns).from(users).where(eq(users.id, id)).limit(1);
  return user;
}

const membershipColumns = {
  id: organizations.id,
  slug: organizations.slug,
  name: organizations.name,
  role: memberships.role,
};

/**
 * The user's membership of `orgId`, or (without `orgId`) of the organisation they joined first;
 * undefined when there is none. Deleted organisations do not count.
 */
export async function findMembership(
  db: Services['db'],
  userId: string,
  orgId?: string,
): Promise<OrgMembership | undefined> {
  const [row] = await db
    .select(membershipColumns)
    .from(memberships)
    .innerJoin(organizations, eq(organizations.id, memberships.orgId))
    .where(
      and(
        eq(memberships.userId, userId),
        isNull(organizations.deletedAt),
        orgId === undefined ? undefined : eq(memberships.orgId, orgId),
      ),
    )
    .orderBy(asc(memberships.createdAt), asc(memberships.orgId))
    .limit(1);
  return row;
}

/**
 * The membership a new access token may carry, read afresh (undefined when the user is no
 * longer a member), and whether the account is disabled. Token issuers call it after the
 * `SESSIONS` object has created or rotated the session, so a membership change or disable that
 * lands meanwhile is either read here or finds the session there and ends or refreshes it.
 */
export async function currentMembership(
  db: Services['db'],
  userId: string,
  orgId: string,
): Promise<(OrgMembership & { disabled: boolean }) | undefined> {
  const [row] = await db
    .select({ ...membershipColumns, disabledAt: users.disabledAt })
    .from(memberships)
    .innerJoin(organizations, eq(organizations.id, memberships.orgId))
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(
      and(
        eq(memberships.userId, userId),
        eq(memberships.orgId, orgId),
        isNull(organizations.deletedAt),
      ),
    )
    .limit(1);
  if (!row) return undefined;
  const { disabledAt, ...membership } = row;
  return { ...membership, disabled: disabledAt !== null };
}

/** Every organisation the user is in, in the order they joined. */
export function listMemberships(db: Services['db'], userId: string): Promise<OrgMembership[]> {
  return db
    .select(membershipColumns)
    .from(memberships)
    .innerJoin(organizations, eq(organizations.id, memberships.orgId))
    .where(and(eq(memberships.userId, userId), isNull(organizations.deletedAt)))
    .orderBy(asc(memberships.createdAt), asc(memberships.orgId));
}

/**
 * Disables an account (sign-in and refresh refuse it from then on) or enables it again; a
 * disabled account keeps its first `disabled_at`. Undefined when there is no such user. The
 * caller ends the user's sessions (`SESSIONS.revokeAll`) after this commits.
 */
export async function setUserDisabled(
  db: Services['db'],
  userId: string,
  disabled: boolean,
): Promise<AccountUser | undefined> {
  const [user] = await db
    .update(users)
    .set({ disabledAt: disabled ? sql`coalesce(${users.disabledAt}, now())` : null })
    .where(eq(users.id, userId))
    .returning(userColumns);
  return user;
}

/** Stamps a successful sign-in, storing the upgraded password hash when there is one. */
export async function recordSignIn(
  db: Services['db'],
  userId: string,
  upgradedHash?: string,
): Promise<void> {
  await db
    .update(users)
    .set({ lastLoginAt: new Date(), ...(upgradedHash ? { passwordHash: upgradedHash } : {}) })
    .where(eq(users.id, userId));
}

export type NewAccount = {
  email: string;
  name: string;
  passwordHash: string;
  organization: { name: string; slug?: string | undefined };
};

export type CreateAccountResult =
  | { ok: true; user: AccountUser; organization: OrgMembership }
  | { ok: false; reason: 'email_taken' | 'slug_taken' };

/** Longest slug made from a name (leaving room for a `-xxxxxx` suffix under the 63 limit). */
const DERIVED_SLUG_MAX = 48;

/**
 * A slug for an organisation name: the name's slug (`slugify`) with Arabic letters written in
 * Latin ones (`transliterateArabic`: `شركة النور` → `shrka-alnur`), restricted to what
 * organisation slugs allow (ASCII letters and digits: they are DNS-safe labels), or `org` when
 * nothing is left (a name in another script, or no letters at all).
 */
export function organizationSlug(name: string): string {
  const latin = transliterateArabic(slugify(name, { maxLength: 1_000 })).replace(
    /[^a-z0-9]+/g,
    '-',
  );
  return slugify(latin, { maxLength: DERIVED_SLUG_MAX }) || 'org';
}

/**
 * Signs someone up: the user, their organisation and their owner membership, in one
 * transaction (nothing is half-written). A given slug that is taken fails with `slug_taken`; a
 * slug made from the name gets a random suffix instead when the plain one is taken.
 */
export async function createAccount(
  services: Pick<Services, 'db' | 'transaction'>,
  input: NewAccount,
): Promise<CreateAccountResult> {
  const given = input.organization.slug;
  let slug = given ?? organizationSlug(input.organization.name);
  if (given === undefined && (await slugTaken(services.db, slug))) slug = withSuffix(slug);
  for (let attempt = 0; ; attempt++) {
    try {
      return await insertAccount(services, input, slug);
    } catch (error) {
      const constraint = violatedConstraint(error);
      if (constraint === 'users_email_key') return { ok: false, reason: 'email_taken' };
      if (constraint === 'organizations_slug_key') {
        // A derived slug taken between the check and the insert: one more try with a new suffix.
        if (given === undefined && attempt === 0) {
          slug = withSuffix(organizationSlug(input.organization.name));
          continue;
        }
        return { ok: false, reason: 'slug_taken' };
      }
      throw error;
    }
  }
}

async function insertAccount(
  services: Pick<Services, 'transaction'>,
  input: NewAccount,
  slug: string,
): Promise<CreateAccountResult> {
  const userId = newId('user');
  const orgId = newId('organization');
  return services.transaction(async (tx) => {
    const [user] = await tx
      .insert(users)
      .values({
        id: userId,
        email: input.email.trim(),
        name: input.name,
        passwordHash: input.passwordHash,
      })
      .returning(userColumns);
    const [org] = await tx
      .insert(organizations)
      .values({ id: orgId, slug, name: input.organization.name })
      .returning({ id: organizations.id, slug: organizations.slug, name: organizations.name });
    await tx.insert(memberships).values({ orgId, userId, role: 'owner' });
    return { ok: true, user: user!, organization: { ...org!, role: 'owner' } };
  });
}

async function slugTaken(db: Services['db'], slug: string): Promise<boolean> {
  const rows = await db
    .select({ id: organizations.id })
    .from(organizations)
    .where(eq(organizations.slug, slug))
    .limit(1);
  return rows.length > 0;
}

function withSuffix(slug: string): string {
  const suffix = newId('organization').slice(-6);
  return `${slug}-${suffix}`;
}

/** The unique constraint a failed insert violated, looking through driver and ORM wrappers. */
function violatedConstraint(error: unknown): string | undefined {
  const pg = pgError(error);
  return pg?.code === '23505' ? (pg.constraint ?? 'unknown') : undefined;
}
