import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import type { Schema } from 'hono';
import {
  generateApiKey,
  invalidateApiKey,
  isPublishable,
} from '../../../../shared/auth/api-keys.ts';
import { principalId } from '../../../../shared/auth/permissions.ts';
import { apiKeys } from '../../../../shared/db/schema/auth.ts';
import { AppError } from '../../../../shared/errors.ts';
import { newId } from '../../../../shared/ids.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import {
  ApiKeyWithSecretSchema,
  apiKeyView,
  DEFAULT_GRACE_SECONDS,
  KeyIdParamsSchema,
  keyNotFound,
  RollApiKeySchema,
} from './schema.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/keys/{id}/roll',
  tags: ['keys'],
  summary: 'Roll an API key',
  description:
    'Replaces a key with a new one of the same name, scopes, rate limit and expiry, and returns ' +
    'the new secret (shown only here). The old key keeps working for `grace_seconds` (default ' +
    'one day, at most seven; 0 ends it at once), so clients can switch without downtime. A ' +
    'revoked, expired or already rolled key cannot be rolled (409).',
  security: [{ bearer: [] }],
  middleware: [requireAuth('keys:manage', { liveSession: true })] as const,
  request: {
    params: KeyIdParamsSchema,
    body: { required: false, content: { 'application/json': { schema: RollApiKeySchema } } },
  },
  responses: {
    201: {
      description: 'The new key, with its secret.',
      content: { 'application/json': { schema: ApiKeyWithSecretSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'CONFLICT',
      'UNSUPPORTED_MEDIA_TYPE',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerKeysRoll<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const principal = c.var.principal!;
    const { id } = c.req.valid('param');
    // Without a JSON body the validator hands over `{}` unparsed: the default is applied here.
    const graceSeconds = c.req.valid('json').grace_seconds ?? DEFAULT_GRACE_SECONDS;
    const { services } = c.var;

    const { old, successor, secret } = await services.transaction(async (tx) => {
      const [current] = await tx
        .select()
        .from(apiKeys)
        .where(and(eq(apiKeys.id, id), eq(apiKeys.orgId, principal.orgId)))
        .for('update');
      if (!current) throw keyNotFound();
      const now = new Date();
      const refusal =
        current.revokedAt !== null
          ? 'it has been revoked'
          : current.replacedBy !== null
            ? `it has already been rolled into ${current.replacedBy}`
            : current.expiresAt !== null && current.expiresAt <= now
              ? 'it has expired'
              : null;
      if (refusal) {
        throw new AppError({ code: 'CONFLICT', message: `The key cannot be rolled: ${refusal}.` });
      }
      // The successor is of the same kind: a publishable key rolls into a publishable one.
      const { secret, prefix, hash } = await generateApiKey(c.var.env.ENVIRONMENT, {
        publishable: isPublishable(current.scopes),
      });
      const [created] = await tx
        .insert(apiKeys)
        .values({
          id: newId('apiKey'),
          orgId: current.orgId,
          name: current.name,
          prefix,
          hash,
          scopes: current.scopes,
          rateLimit: current.rateLimit,
          rateLimitWindowSeconds: current.rateLimitWindowSeconds,
          expiresAt: current.expiresAt,
          createdBy: principalId(principal),
          createdAt: now,
        })
        .returning();
      const [updated] = await tx
        .update(apiKeys)
        .set({
          replacedBy: created!.id,
          graceUntil: new Date(now.getTime() + graceSeconds * 1_000),
        })
        .where(eq(apiKeys.id, current.id))
        .returning();
      return { old: updated!, successor: created!, secret };
    });

    await invalidateApiKey(services, old);
    const key = apiKeyView(successor);
    audit(c, {
      action: 'api_key.roll',
      targetType: 'api_key',
      targetId: old.id,
      data: {
        key_id: old.id,
        prefix: old.prefix,
        new_key_id: key.id,
        new_prefix: key.prefix,
        scopes: key.scopes,
        grace_seconds: graceSeconds,
        grace_until: old.graceUntil?.toISOString() ?? null,
      },
    });
    return c.json(ApiKeyWithSecretSchema.parse({ ...key, secret }), 201);
  });
}
