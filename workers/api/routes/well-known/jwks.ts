import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { jwks } from '../../../../shared/auth/tokens.ts';
import type { AppBindings } from '../../app.ts';
import { keyRing } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';

export const JwksSchema = z
  .object({
    keys: z.array(
      z.object({
        kty: z.literal('EC'),
        crv: z.literal('P-256'),
        x: z.string(),
        y: z.string(),
        kid: z.string().openapi({ example: 'sift-2026-11-01-3fa9c2d1' }),
        alg: z.literal('ES256'),
        use: z.literal('sig'),
      }),
    ),
  })
  .openapi('JsonWebKeySet');

export const route = createRoute({
  method: 'get',
  path: '/.well-known/jwks.json',
  tags: ['auth'],
  summary: 'Signing keys',
  description:
    'The public keys access tokens are signed with (RFC 7517): the current key and, during a ' +
    'rotation, the previous one. Match a token to its key by `kid`. Cacheable for 5 minutes.',
  responses: {
    200: {
      description: 'The JSON Web Key Set.',
      content: { 'application/json': { schema: JwksSchema } },
    },
    ...problemResponses(...COMMON_PROBLEMS),
  },
});

export function registerWellKnownJwks<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, (c) =>
    c.json(JwksSchema.parse(jwks(keyRing(c.var.env))), 200, {
      'Cache-Control': 'public, max-age=300',
    }),
  );
}
