import { eq, or, type SQL } from 'drizzle-orm';
import { type Principal, principalId } from '../auth/permissions.ts';
import { documents } from '../db/schema/documents.ts';

/**
 * Who sees which documents (besides `documents:read`). An `organization` document: every member
 * and every API key of the organisation. A `private` one: its uploader, the organisation's owners
 * and admins, and super admins acting in it. An API key is not a person and holds no role, so it
 * sees `organization` documents and the private ones it uploaded itself, whatever its scopes.
 */
export function seesPrivateDocuments(principal: Principal): boolean {
  return (
    principal.kind === 'user' &&
    (principal.superAdmin || principal.role === 'owner' || principal.role === 'admin')
  );
}

/** Whether `principal` may see a document with this visibility and uploader. */
export function canSeeDocument(
  principal: Principal,
  document: { visibility: string; uploadedBy: string },
): boolean {
  return (
    document.visibility === 'organization' ||
    seesPrivateDocuments(principal) ||
    document.uploadedBy === principalId(principal)
  );
}

/**
 * The same rule as a condition on `documents`, for every query that lists or reads them;
 * undefined when the principal sees every document of its organisation.
 */
export function visibleDocuments(principal: Principal): SQL | undefined {
  if (seesPrivateDocuments(principal)) return undefined;
  return or(
    eq(documents.visibility, 'organization'),
    eq(documents.uploadedBy, principalId(principal)),
  );
}
