import type { Context } from 'hono';
import type { MembershipRefusal } from '../../../../shared/auth/memberships.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';

/**
 * The error for a membership rule the caller broke: 409 for the last-owner rule (the state of
 * the organisation, not the caller, is in the way), otherwise 403, audited as
 * `permission.denied` like any other refusal. `rule` names the rule for clients.
 */
export function refusalError(c: Context<AppBindings>, refusal: MembershipRefusal): AppError {
  if (refusal.reason === 'last_owner') {
    return new AppError({
      code: 'CONFLICT',
      message: refusal.message,
      extensions: { rule: refusal.reason },
    });
  }
  audit(c, {
    action: 'permission.denied',
    data: { rule: refusal.reason, method: c.req.method, route: c.req.routePath },
  });
  return new AppError({
    code: 'FORBIDDEN',
    message: refusal.message,
    extensions: { rule: refusal.reason },
  });
}

/** The caller as a user (the membership and invitation routes are for users, not API keys). */
export function userPrincipal(c: Context<AppBindings>) {
  const principal = c.var.principal;
  if (principal?.kind !== 'user') {
    throw new AppError({ code: 'FORBIDDEN', message: 'This route is for signed-in users' });
  }
  return principal;
}
