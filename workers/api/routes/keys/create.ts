import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { generateApiKey, isPublishable } from '../../../../shared/auth/api-keys.ts';
import { principalId } from '../../../../shared/auth/permissions.ts';
import { apiKeys } from '../../../../shared/db/schema/auth.ts';
import { AppError } from '../../../../shared/errors.ts';
import { newId } from '../../../../shared/ids.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { IdempotencyKeyHeaderSchema, idempotent } from '../../middleware/idempotency.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { ApiKeyWithSecretSchema, apiKeyView, CreateApiKeySchema } from './schema.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/keys',
  tags: ['keys'],
  summary: 'Create an API key',
  description:
    "Creates a key for the caller's organisation with the given scopes, which must be " +
    'permissions the caller holds (never `admin`), and an optional expiry and rate limit. The ' +
    'secret is in this response only: it is stored as a SHA-256 hash and cannot be shown again. ' +
    'With an `Idempotency-Key`, a retry within 24 h gets this same answer back (the copy kept for ' +
    'it is encrypted under that key, which only the client holds) instead of a second key.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('keys:manage', { liveSession: true }), idempotent()] as const,
  request: {
    headers: IdempotencyKeyHeaderSchema,
    body: { required: true, content: { 'application/json': { schema: CreateApiKeySchema } } },
  },
  responses: {
    201: {
      description: 'The key, with its secret.',
      content: { 'application/json': { schema: ApiKeyWithSecretSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'CONFLICT',
      'UNSUPPORTED_MEDIA_TYPE',
      'UNPROCESSABLE',
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerKeysCreate<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const principal = c.var.principal!;
    const body = c.req.valid('json');
    // A key can do at most what its creator can: no scope the caller lacks, and never `admin`,
    // which is the platform's own and must not leave with a secret.
    for (const scope of body.scopes) {
      if (scope === 'admin' || !principal.permissions.has(scope)) {
        audit(c, {
          action: 'permission.denied',
          data: { permission: scope, method: c.req.method, route: c.req.routePath, grant: true },
        });
        throw new AppError({
          code: 'FORBIDDEN',
          message:
            scope === 'admin'
              ? 'API keys cannot have the "admin" scope'
              : `You cannot grant the "${scope}" scope: you do not have it yourself`,
          extensions: { scope },
        });
      }
    }
    const { secret, prefix, hash } = await generateApiKey(c.var.env.ENVIRONMENT, {
      publishable: isPublishable(body.scopes),
    });
    const [row] = await c.var.services.db
      .insert(apiKeys)
      .values({
        id: newId('apiKey'),
        orgId: principal.orgId,
        name: body.name,
        prefix,
        hash,
        scopes: body.scopes,
        rateLimit: body.rate_limit?.limit ?? null,
        rateLimitWindowSeconds: body.rate_limit?.window_seconds ?? null,
        expiresAt: body.expires_at ? new Date(body.expires_at) : null,
        createdBy: principalId(principal),
        createdAt: new Date(),
      })
      .returning();
    const key = apiKeyView(row!);
    audit(c, {
      action: 'api_key.create',
      targetType: 'api_key',
      targetId: key.id,
      data: {
        key_id: key.id,
        prefix: key.prefix,
        scopes: key.scopes,
        expires_at: key.expires_at,
        rate_limit: key.rate_limit,
      },
    });
    return c.json(ApiKeyWithSecretSchema.parse({ ...key, secret }), 201);
  });
}
