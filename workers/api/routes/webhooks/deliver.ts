import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { Receiver } from '@upstash/qstash';
import type { Schema } from 'hono';
import { webhookCallbackUrl } from '../../../../shared/env.ts';
import { AppError } from '../../../../shared/errors.ts';
import { AttemptMessage, makeAttempt } from '../../../../shared/webhooks/delivery.ts';
import type { AppBindings } from '../../app.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';

const AttemptResultSchema = z.object({
  outcome: z.enum(['skipped', 'endpoint_disabled', 'delivered', 'failed', 'gone']),
  attempt: z.number().int().optional(),
  status_code: z.number().int().nullable().optional(),
  next_attempt_at: z.string().nullable().optional(),
  endpoint_disabled: z.enum(['gone', 'failing']).nullable().optional(),
});

/**
 * QStash's callback: an attempt of an outbound webhook delivery is due. Not part of the public
 * API (hidden from the OpenAPI description): only QStash can call it, its `Upstash-Signature`
 * (a JWT over the body and this URL, by the current or next signing key) verified with the
 * SDK's `Receiver`. A `200` tells QStash the attempt is settled — whatever the endpoint
 * answered, the next attempt is scheduled anew; a `5xx` (the attempt could not be made or
 * recorded) makes QStash call again.
 */
export const route = createRoute({
  method: 'post',
  path: '/internal/webhooks/deliver',
  hide: true,
  summary: 'Make a due webhook attempt (QStash only)',
  responses: {
    200: {
      description: 'The attempt is settled.',
      content: { 'application/json': { schema: AttemptResultSchema } },
    },
    ...problemResponses('BAD_REQUEST', 'UNAUTHORIZED', 'SERVICE_UNAVAILABLE', ...COMMON_PROBLEMS),
  },
});

export function registerWebhookDeliver<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { env } = c.var;
    const body = await c.req.text();
    const signature = c.req.header('upstash-signature');
    const receiver = new Receiver({
      currentSigningKey: env.QSTASH_CURRENT_SIGNING_KEY,
      nextSigningKey: env.QSTASH_NEXT_SIGNING_KEY,
    });
    const verified =
      signature !== undefined &&
      (await receiver
        .verify({ signature, body, url: webhookCallbackUrl(env), clockTolerance: 5 })
        .catch(() => false));
    if (!verified) {
      c.var.logger.warn('webhook callback refused: not signed by QStash');
      throw new AppError({ code: 'UNAUTHORIZED', message: 'Only QStash may call this.' });
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    const message = AttemptMessage.safeParse(json);
    if (!message.success) {
      throw new AppError({ code: 'BAD_REQUEST', message: 'Not an attempt message.' });
    }
    const result = await makeAttempt(c.var.services, message.data);
    c.var.logger.info('webhook attempt', {
      delivery_id: message.data.delivery_id,
      attempt: message.data.attempt,
      ...result,
    });
    return c.json(result, 200);
  });
}
