import { z } from 'zod';
import type { MembershipRole } from '../db/schema/tenancy.ts';

/**
 * What a caller may do. Routes declare the one permission they need; roles and API-key scopes
 * are sets of these. `admin` is the platform's own (super admins only): no organisation role
 * grants it.
 */
export const Permission = z.enum([
  'content:read',
  'content:write',
  'content:publish',
  'content:delete',
  'documents:read',
  'documents:write',
  'search',
  'events:write',
  'analytics:read',
  'keys:manage',
  'members:manage',
  'webhooks:manage',
  'settings:manage',
  'flags:manage',
  'flags:evaluate',
  'audit:read',
  'admin',
]);
export type Permission = z.infer<typeof Permission>;

export const ROLES = [
  'owner',
  'admin',
  'editor',
  'author',
  'viewer',
] as const satisfies readonly MembershipRole[];
export const Role = z.enum(ROLES);
export type Role = MembershipRole;

/**
 * The permission matrix (the README prints it). Owners can do everything in their organisation;
 * admins too, except that only an owner may grant, change or remove the owner role (checked by
 * the membership routes). Editors run the content workflow end to end; authors write drafts and
 * submit them; viewers read and search. Documents follow content: every role reads them
 * (`documents:read`, within their visibility), editors and up upload and change them. Every member may record engagement events (`events:write`:
 * their own views, clicks, shares…) and evaluate feature flags (`flags:evaluate`); owners and
 * admins manage flags (`flags:manage`).
 */
export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  owner: Permission.options.filter((p) => p !== 'admin'),
  admin: Permission.options.filter((p) => p !== 'admin'),
  editor: [
    'content:read',
    'content:write',
    'content:publish',
    'content:delete',
    'documents:read',
    'documents:write',
    'search',
    'events:write',
    'analytics:read',
    'flags:evaluate',
  ],
  author: [
    'content:read',
    'content:write',
    'documents:read',
    'search',
    'events:write',
    'flags:evaluate',
  ],
  viewer: ['content:read', 'documents:read', 'search', 'events:write', 'flags:evaluate'],
};

/** Roles ranked, most powerful first: a member can only grant roles at or below their own. */
export const ROLE_RANK: Record<Role, number> = {
  owner: 0,
  admin: 1,
  editor: 2,
  author: 3,
  viewer: 4,
};

/** Every permission a super admin holds, in any organisation they act in. */
export const SUPER_ADMIN_PERMISSIONS: readonly Permission[] = Permission.options;

/** The permissions of a role, plus `admin` and everything else for a super admin. */
export function permissionsOf(role: Role, superAdmin = false): ReadonlySet<Permission> {
  return new Set(superAdmin ? SUPER_ADMIN_PERMISSIONS : ROLE_PERMISSIONS[role]);
}

/**
 * Who is calling, once authenticated. A user acts through an access token for one organisation
 * (`org`) and one session (`sid`); an API key acts for the organisation it belongs to with its
 * scopes, never more than the permissions of whoever created it had.
 */
export type Principal =
  | {
      kind: 'user';
      userId: string;
      orgId: string;
      role: Role;
      sessionId: string;
      /** The access token's `gen`: which refresh of the session issued it. */
      generation: number;
      superAdmin: boolean;
      permissions: ReadonlySet<Permission>;
    }
  | {
      kind: 'api_key';
      keyId: string;
      orgId: string;
      permissions: ReadonlySet<Permission>;
      /** The key's own limit, or null for the plan's default. */
      rateLimit: { limit: number; windowSeconds: number } | null;
    };

/** The id the audit log and rate limiter know the principal by (`usr_…` or `key_…`). */
export function principalId(principal: Principal): string {
  return principal.kind === 'user' ? principal.userId : principal.keyId;
}
