import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { Permission, Role } from '../../../../shared/auth/permissions.ts';
import type { AppBindings } from '../../app.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';

export const WhoamiSchema = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('anonymous') }),
    z.object({
      kind: z.literal('user'),
      user_id: z.string(),
      org_id: z.string(),
      role: Role,
      session_id: z.string(),
      super_admin: z.boolean(),
      permissions: z.array(Permission),
    }),
    z.object({
      kind: z.literal('api_key'),
      key_id: z.string(),
      org_id: z.string(),
      permissions: z.array(Permission),
      rate_limit: z
        .object({ limit: z.number().int(), window_seconds: z.number().int() })
        .nullable(),
    }),
  ])
  .openapi('Whoami');

export const route = createRoute({
  method: 'get',
  path: '/v1/whoami',
  tags: ['auth'],
  summary: 'Describe the caller',
  description:
    'Who the credentials in `Authorization` identify and what they may do: the user, organisation, ' +
    'role and session of an access token, or the organisation, scopes and rate limit of an API ' +
    'key. Without credentials it answers `kind: anonymous`; invalid credentials get 401. A ' +
    'cheap way for a client to check a token or key, and what the auth benchmark measures.',
  security: [{ bearer: [] }],
  responses: {
    200: {
      description: 'The caller.',
      content: { 'application/json': { schema: WhoamiSchema } },
    },
    ...problemResponses('UNAUTHORIZED', 'FORBIDDEN', 'RATE_LIMITED', ...COMMON_PROBLEMS),
  },
});

export function registerWhoamiGet<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, (c) => {
    const principal = c.var.principal;
    const body: z.input<typeof WhoamiSchema> = !principal
      ? { kind: 'anonymous' }
      : principal.kind === 'user'
        ? {
            kind: 'user',
            user_id: principal.userId,
            org_id: principal.orgId,
            role: principal.role,
            session_id: principal.sessionId,
            super_admin: principal.superAdmin,
            permissions: [...principal.permissions].sort(),
          }
        : {
            kind: 'api_key',
            key_id: principal.keyId,
            org_id: principal.orgId,
            permissions: [...principal.permissions].sort(),
            rate_limit: principal.rateLimit
              ? {
                  limit: principal.rateLimit.limit,
                  window_seconds: principal.rateLimit.windowSeconds,
                }
              : null,
          };
    c.header('Cache-Control', 'no-store');
    return c.json(WhoamiSchema.parse(body), 200);
  });
}
