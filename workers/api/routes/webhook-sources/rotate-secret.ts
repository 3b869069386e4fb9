import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import type { Schema } from 'hono';
import { webhookSources } from '../../../../shared/db/schema/webhooks.ts';
import { secretKeys } from '../../../../shared/env.ts';
import { AppError } from '../../../../shared/errors.ts';
import { openSecret, sealSecret } from '../../../../shared/secret-box.ts';
import {
  generateSourceSecret,
  secretProblem,
} from '../../../../shared/webhook-sources/signature.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import {
  badSecret,
  DEFAULT_GRACE_SECONDS,
  RotateSecretSchema,
  SourceIdParamsSchema,
  sourceNotFound,
  sourceView,
  WebhookSourceWithSecretSchema,
} from './schema.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/webhooks/sources/{id}/rotate-secret',
  tags: ['webhook-sources'],
  summary: "Rotate an inbound webhook source's secret",
  description:
    'Makes a new signing secret (generated, or the upstream’s own for `github`, `stripe`, ' +
    '`hmac`), shown in this response only. The previous secret keeps verifying for ' +
    '`grace_seconds` (default 86400, one day; at most 604800; 0 ends it at once), so the ' +
    'upstream can switch without losing deliveries; a secret older than that is forgotten. ' +
    'A feed source has no secret (`409`). Audited as `webhook_source.rotate_secret`. Needs ' +
    '`settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('settings:manage')] as const,
  request: {
    params: SourceIdParamsSchema,
    body: { required: false, content: { 'application/json': { schema: RotateSecretSchema } } },
  },
  responses: {
    200: {
      description: 'The source, with its new secret (shown once).',
      content: { 'application/json': { schema: WebhookSourceWithSecretSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'CONFLICT',
      'UNSUPPORTED_MEDIA_TYPE',
      'UNPROCESSABLE',
      'RATE_LIMITED',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerWebhookSourcesRotateSecret<S extends Schema>(
  app: OpenAPIHono<AppBindings, S>,
) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id } = c.req.valid('param');
    const body = c.req.valid('json') ?? {};
    const { db } = c.var.services;
    const where = and(eq(webhookSources.id, id), eq(webhookSources.orgId, orgId));
    const [current] = await db.select().from(webhookSources).where(where).limit(1);
    if (!current) throw sourceNotFound();
    const kind = current.kind;
    const sealed = current.secretCiphertext;
    if (kind === 'feed' || sealed === null) {
      throw new AppError({
        code: 'CONFLICT',
        message: 'A feed source has no secret: it is polled, never pushed to.',
      });
    }
    if (body.secret !== undefined) {
      const problem = secretProblem(kind, body.secret);
      if (problem) throw badSecret(problem);
    }
    const secret = body.secret ?? generateSourceSecret();
    const graceSeconds = body.grace_seconds ?? DEFAULT_GRACE_SECONDS;
    const graceUntil = new Date(Date.now() + graceSeconds * 1000);
    const [row] = await db
      .update(webhookSources)
      .set({
        secretCiphertext: await sealSecret(secretKeys(c.var.env), secret, `webhook_sources:${id}`),
        // The previous secret is sealed in its own context, so it cannot be swapped in as current.
        previousSecretCiphertext: graceSeconds > 0 ? await resealPrevious(c, sealed, id) : null,
        previousSecretExpiresAt: graceSeconds > 0 ? graceUntil : null,
      })
      .where(where)
      .returning();
    if (!row) throw sourceNotFound();
    audit(c, {
      action: 'webhook_source.rotate_secret',
      targetType: 'webhook_source',
      targetId: id,
      data: { grace_seconds: graceSeconds, secret_supplied: body.secret !== undefined },
    });
    return c.json(WebhookSourceWithSecretSchema.parse({ ...sourceView(row), secret }), 200);
  });
}

/** The current secret sealed again as the previous one (its own context: not swappable). */
async function resealPrevious(
  c: { var: { env: Parameters<typeof secretKeys>[0] } },
  sealed: string,
  id: string,
): Promise<string> {
  const keys = secretKeys(c.var.env);
  const { plaintext } = await openSecret(keys, sealed, `webhook_sources:${id}`);
  return sealSecret(keys, plaintext, `webhook_sources:${id}:previous`);
}
