import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { createAccount } from '../../../../shared/auth/accounts.ts';
import { recordSignup } from '../../../../shared/auth/login-throttle.ts';
import { hashPassword, passwordProblem } from '../../../../shared/auth/passwords.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { clientIp } from '../../request-context.ts';
import { NO_STORE, startSession, withDeviceToken } from './issue.ts';
import { SignupBodySchema, TokenResponseSchema } from './schema.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/auth/signup',
  tags: ['auth'],
  summary: 'Sign up',
  description:
    'Creates an account and an organisation owned by it (all or nothing), signs in and returns ' +
    'the tokens. The password must be 12 to 256 characters and not a commonly used one; the ' +
    "organisation's slug is made from its name when not given.",
  request: {
    body: { required: true, content: { 'application/json': { schema: SignupBodySchema } } },
  },
  responses: {
    201: {
      description: 'Signed up and signed in.',
      content: { 'application/json': { schema: TokenResponseSchema } },
    },
    ...problemResponses('VALIDATION_FAILED', 'CONFLICT', 'RATE_LIMITED', ...COMMON_PROBLEMS),
  },
});

export function registerAuthSignup<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const body = c.req.valid('json');
    const weak = passwordProblem(body.password, { email: body.email });
    if (weak) {
      throw new AppError({
        code: 'VALIDATION_FAILED',
        message: `body.password: ${weak}`,
        errors: [{ path: 'body.password', message: weak, code: 'password_policy' }],
      });
    }
    const created = await createAccount(c.var.services, {
      email: body.email,
      name: body.name,
      passwordHash: await hashPassword(body.password),
      organization: body.organization,
    });
    if (!created.ok) {
      const [path, message] =
        created.reason === 'email_taken'
          ? ['body.email', 'An account with this e-mail address already exists']
          : ['body.organization.slug', 'This organisation slug is taken; choose another'];
      throw new AppError({
        code: 'CONFLICT',
        message,
        errors: [{ path, message: 'is taken', code: created.reason }],
      });
    }
    const { user, organization } = created;
    const tokens = await startSession(c, user, organization);
    const deviceToken = await recordSignup(c.var.services, { email: user.email, ip: clientIp(c) });
    audit(c, {
      action: 'auth.signup',
      orgId: organization.id,
      actor: { type: 'user', id: user.id },
      targetType: 'organization',
      targetId: organization.id,
      data: { session_id: tokens.session_id, slug: organization.slug },
    });
    return c.json(withDeviceToken(tokens, deviceToken), 201, NO_STORE);
  });
}
