import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { findMembership, findUserByEmail, recordSignIn } from '../../../../shared/auth/accounts.ts';
import {
  checkLoginAttempt,
  emailDigest,
  recordLoginFailure,
  recordLoginSuccess,
} from '../../../../shared/auth/login-throttle.ts';
import { hashPassword, verifyPassword } from '../../../../shared/auth/passwords.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { clientIp } from '../../request-context.ts';
import { NO_STORE, startSession, withDeviceToken } from './issue.ts';
import { LoginBodySchema, TokenResponseSchema } from './schema.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/auth/login',
  tags: ['auth'],
  summary: 'Sign in',
  description:
    'Checks an e-mail address and password and starts a session: a 15-minute access token for ' +
    'one organisation (`org_id`, or the one you joined first) and a refresh token. An unknown ' +
    'address and a wrong password get the same answer. Failed attempts are throttled: 5 in 15 ' +
    'minutes for one address from devices it does not know (all of them together, whatever ' +
    'their IPs), 5 from one device or IP it signed in from before, 20 from one IP whatever the ' +
    'address; beyond that, attempts from there are refused with 429 and a `Retry-After` that ' +
    'doubles with each attempt, up to 15 minutes. A device that sends the `device_token` of an ' +
    'earlier sign-in, or signs in from an IP it used before, is not locked out by failures from ' +
    'elsewhere.',
  request: {
    body: { required: true, content: { 'application/json': { schema: LoginBodySchema } } },
  },
  responses: {
    200: {
      description: 'Signed in.',
      content: { 'application/json': { schema: TokenResponseSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'RATE_LIMITED',
      ...COMMON_PROBLEMS,
    ),
  },
});

/** The one answer to every failed login, whatever the reason (same text, same status). */
const invalidCredentials = () =>
  new AppError({ code: 'UNAUTHORIZED', message: 'The e-mail address or password is incorrect' });

export function registerAuthLogin<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const body = c.req.valid('json');
    const { services } = c.var;
    const attempt = { email: body.email, ip: clientIp(c), deviceToken: body.device_token };
    const throttle = await checkLoginAttempt(services, attempt);
    if (!throttle.ok) {
      const seconds = throttle.retryAfterSeconds;
      throw new AppError({
        code: 'RATE_LIMITED',
        message: `Too many failed sign-in attempts; try again in ${seconds} seconds`,
        headers: { 'Retry-After': String(seconds) },
      });
    }
    const user = await findUserByEmail(services.db, body.email);
    // With no user the check still derives a hash (a decoy), so both cost the same time.
    const { ok, rehash } = await verifyPassword(body.password, user?.passwordHash ?? null);
    if (!ok || !user || user.disabledAt !== null) {
      await recordLoginFailure(services, throttle.gate);
      // A known user's failure lands in the organisation they would have signed in to, where
      // its admins can see it; looked up after the response so both answers take equally long.
      const reason = !user ? 'unknown_user' : ok ? 'disabled' : 'wrong_password';
      services.waitUntil(
        (async () => {
          const organization = user
            ? await findMembership(services.db, user.id, body.org_id)
            : null;
          await audit(c, {
            action: 'auth.login_failed',
            orgId: organization?.id ?? null,
            actor: user ? { type: 'user', id: user.id } : { type: 'system', id: null },
            ...(user ? { targetType: 'user', targetId: user.id } : {}),
            data: { email_sha256: await emailDigest(body.email), reason },
          });
        })().catch((error: unknown) =>
          c.var.logger.error('login failure not audited', { error: String(error) }),
        ),
      );
      throw invalidCredentials();
    }
    const organization = await findMembership(services.db, user.id, body.org_id);
    if (!organization) {
      throw new AppError({
        code: 'FORBIDDEN',
        message: body.org_id
          ? `You are not a member of organisation ${body.org_id}`
          : 'This account is not a member of any organisation',
      });
    }
    await recordSignIn(
      services.db,
      user.id,
      rehash ? await hashPassword(body.password) : undefined,
    );
    const tokens = await startSession(c, user, organization);
    const deviceToken = await recordLoginSuccess(services, throttle.gate);
    audit(c, {
      action: 'auth.login',
      orgId: organization.id,
      actor: { type: 'user', id: user.id },
      targetType: 'session',
      targetId: tokens.session_id,
      data: {
        session_id: tokens.session_id,
        client: throttle.gate.trust,
        ...(rehash ? { password_rehashed: true } : {}),
      },
    });
    return c.json(withDeviceToken(tokens, deviceToken), 200, NO_STORE);
  });
}
