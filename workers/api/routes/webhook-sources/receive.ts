import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { eq, sql } from 'drizzle-orm';
import type { Context, Schema } from 'hono';
import { webhookSources } from '../../../../shared/db/schema/webhooks.ts';
import { secretKeys } from '../../../../shared/env.ts';
import { AppError } from '../../../../shared/errors.ts';
import { exampleId } from '../../../../shared/ids.ts';
import { openSecret, sealSecret } from '../../../../shared/secret-box.ts';
import { unstorable } from '../../../../shared/text/storable.ts';
import { applyMapping, Mapping } from '../../../../shared/webhook-sources/mapping.ts';
import {
  dummyVerify,
  generateSourceSecret,
  HmacSettings,
  REPLAY_WINDOW_SECONDS,
  type RefusalReason,
  verifyDelivery,
} from '../../../../shared/webhook-sources/signature.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { WRITE_RETRY_AFTER_SECONDS } from '../../content-write.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { idParams } from '../../params.ts';
import {
  ingest,
  pruneDeliveries,
  recordDelivery,
  requestIngestContext,
  settleDelivery,
} from '../../webhook-ingest.ts';

const ReceiptSchema = z
  .object({
    status: z.enum(['applied', 'duplicate', 'unmapped']).openapi({
      description:
        '`applied`: written through the content write path (`operation_id` reports when ' +
        'Postgres has it). `duplicate`: this delivery id was received before; nothing done. ' +
        '`unmapped`: the payload does not map to content (`reason`); nothing written.',
    }),
    delivery: z
      .string()
      .nullable()
      .openapi({
        description:
          'The delivery’s entry in the log (`GET /v1/webhooks/sources/{id}/deliveries`).',
        example: exampleId('sourceDelivery'),
      }),
    content_id: z
      .string()
      .nullable()
      .openapi({ example: exampleId('content') }),
    operation_id: z
      .string()
      .nullable()
      .openapi({ example: exampleId('operation') }),
    reason: z.string().nullable().openapi({ example: null }),
  })
  .openapi('InboundWebhookReceipt');

export const route = createRoute({
  method: 'post',
  path: '/webhooks/inbound/{source_id}',
  tags: ['webhook-sources'],
  summary: 'Receive a delivery from an upstream source',
  description:
    'Where an upstream system posts its events (no bearer token: the signature authenticates ' +
    'it). The body (JSON, at most 1 MiB: `413` beyond) is verified against the source’s secret ' +
    '(and, for 24 h after a rotation, its previous one) in constant time by its `kind`: ' +
    '`standard` (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`), `github` ' +
    '(`X-Hub-Signature-256: sha256=<hex>`, `X-GitHub-Delivery`; no timestamp, so replay is ' +
    'refused by delivery id only), `stripe` (`Stripe-Signature: t=…,v1=<hex>`) or `hmac` (the ' +
    "source's settings). A timestamp more than 5 minutes from now (either way) is refused. " +
    'Any refusal — unknown or disabled source, a `feed` source (polled, never pushed to), missing ' +
    'or garbled headers, bad signature, stale timestamp — is the same `401` problem; except for ' +
    'an unknown source or a feed, it is counted on the source (`failure_count`, ' +
    '`last_failure_reason`), logged as a `refused` delivery and audited as ' +
    '`webhook_source.delivery_refused`. A delivery id seen in the last 24 h is dropped: `200` ' +
    '`duplicate`. A verified delivery is mapped (`mapping`) and written through the content ' +
    'write path as the source: `202` `applied`; one that does not map is `200` `unmapped` with ' +
    'the reason (also in the delivery log), nothing written. When the write path is down: `503` ' +
    'with `Retry-After`; the delivery id is forgotten so the retry is taken. A malformed source ' +
    'id is a `400` (as on every route); no query parameters.',
  request: {
    params: idParams('webhookSource', 'source_id'),
  },
  responses: {
    202: {
      description: 'Verified and written (`applied`).',
      content: { 'application/json': { schema: ReceiptSchema } },
    },
    200: {
      description: 'Verified; a `duplicate`, or `unmapped` (nothing written).',
      content: { 'application/json': { schema: ReceiptSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'PAYLOAD_TOO_LARGE',
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

type Source = typeof webhookSources.$inferSelect;

/** The one answer to every refusal: it says nothing of why. */
const refusal = () =>
  new AppError({ code: 'UNAUTHORIZED', message: 'The delivery was not accepted.' });

/** The delivery id a refused delivery claims (for the log), when readable. */
function claimedDeliveryId(source: Source, headers: Headers): string | null {
  const hmac = (source.config as { hmac?: { delivery_id_header?: string } }).hmac;
  const name =
    source.kind === 'standard'
      ? 'webhook-id'
      : source.kind === 'github'
        ? 'x-github-delivery'
        : source.kind === 'hmac'
          ? hmac?.delivery_id_header
          : undefined;
  const value = name ? headers.get(name) : null;
  return value && value.length <= 200 && unstorable(value) === undefined ? value : null;
}

/**
 * Refusals logged and audited per source and hour; beyond, a flood of forgeries only counts
 * (`failure_count`), so it cannot fill the delivery log and the audit log.
 */
export const REFUSALS_RECORDED_PER_HOUR = 100;

/** Counts a refused delivery, and logs and audits it (within the hourly cap), after the response. */
function recordRefusal(
  c: Context<AppBindings>,
  source: Source,
  reason: Exclude<RefusalReason, 'unknown_source'>,
) {
  const { services } = c.var;
  const deliveryId = claimedDeliveryId(source, c.req.raw.headers);
  const hour = Math.floor(Date.now() / 3_600_000);
  const record = async () => {
    const key = `webhook-sources:refusals:${source.id}:${hour}`;
    // Redis down: record anyway (the cap protects the logs; losing the record would hide an attack).
    const count = await services
      .guard('redis', async () => {
        const [n] = await services.redis
          .pipeline()
          .incr(key)
          .expire(key, 3_600)
          .exec<[number, number]>();
        return n;
      })
      .catch(() => 0);
    if (count > REFUSALS_RECORDED_PER_HOUR) return;
    await Promise.all([
      recordDelivery(services, source, { status: 'refused', deliveryId, reason }),
      audit(c, {
        action: 'webhook_source.delivery_refused',
        orgId: source.orgId,
        targetType: 'webhook_source',
        targetId: source.id,
        data: { reason, delivery_id: deliveryId },
      }),
    ]);
  };
  services.waitUntil(
    Promise.all([
      services.db
        .update(webhookSources)
        .set({
          failureCount: sql`${webhookSources.failureCount} + 1`,
          lastFailureAt: new Date(),
          lastFailureReason: reason,
          updatedAt: sql`${webhookSources.updatedAt}`,
        })
        .where(eq(webhookSources.id, source.id)),
      record(),
    ]).catch((error: unknown) =>
      c.var.logger.error('refused delivery not recorded', { source_id: source.id, error }),
    ),
  );
}

// A value sealed once per isolate and key, opened for an unknown source as a real one would be.
const dummies = new Map<string, Promise<string>>();

async function openDummySecret(c: Context<AppBindings>): Promise<void> {
  const keys = secretKeys(c.var.env);
  let sealed = dummies.get(keys.current);
  if (!sealed) {
    sealed = sealSecret(keys, generateSourceSecret(), 'webhook_sources:dummy');
    dummies.set(keys.current, sealed);
  }
  await openSecret(keys, await sealed, 'webhook_sources:dummy').catch(() => {});
}

async function secretsOf(
  c: Context<AppBindings>,
  source: Source,
  sealed: string,
): Promise<string[]> {
  const keys = secretKeys(c.var.env);
  const context = `webhook_sources:${source.id}`;
  const secrets = [(await openSecret(keys, sealed, context)).plaintext];
  if (
    source.previousSecretCiphertext !== null &&
    source.previousSecretExpiresAt !== null &&
    source.previousSecretExpiresAt > new Date()
  ) {
    const previous = await openSecret(keys, source.previousSecretCiphertext, `${context}:previous`);
    secrets.push(previous.plaintext);
  }
  return secrets;
}

export function registerWebhookSourcesReceive<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { source_id: sourceId } = c.req.valid('param');
    const { services } = c.var;
    const body = new Uint8Array(await c.req.arrayBuffer());
    const [source] = await services.db
      .select()
      .from(webhookSources)
      .where(eq(webhookSources.id, sourceId))
      .limit(1);
    const kind = source?.kind;
    const sealed = source?.secretCiphertext;
    if (!source || kind === undefined || kind === 'feed' || !sealed) {
      // The work of a verification (opening a secret, one HMAC), so an unknown source answers
      // no sooner than a bad signature. A feed is polled, never pushed to: it takes nothing here.
      await Promise.all([openDummySecret(c), dummyVerify(body)]);
      throw refusal();
    }
    if (source.disabledAt !== null) {
      await Promise.all([openDummySecret(c), dummyVerify(body)]);
      recordRefusal(c, source, 'disabled');
      throw refusal();
    }

    const config = source.config as { mapping?: unknown; hmac?: unknown };
    const hmac = kind === 'hmac' ? HmacSettings.safeParse(config.hmac) : undefined;
    const verified = await verifyDelivery({
      kind,
      hmac: hmac?.success ? hmac.data : undefined,
      headers: c.req.raw.headers,
      body,
      secrets: await secretsOf(c, source, sealed),
      now: Date.now(),
    });
    if (!verified.ok) {
      recordRefusal(c, source, verified.reason as Exclude<RefusalReason, 'unknown_source'>);
      throw refusal();
    }
    services.waitUntil(
      services.db
        .update(webhookSources)
        .set({ lastReceivedAt: new Date(), updatedAt: sql`${webhookSources.updatedAt}` })
        .where(eq(webhookSources.id, source.id))
        .catch(() => {}),
    );
    // Now and then, the log's old entries go (retention), after the response.
    if (Math.random() < 0.01) services.waitUntil(pruneDeliveries(services, source).catch(() => {}));

    const { deliveryId } = verified;
    const seenKey = `webhook-sources:seen:${source.id}:${deliveryId}`;
    const duplicate = async () => {
      const id = await recordDelivery(services, source, { status: 'duplicate', deliveryId });
      return c.json(
        ReceiptSchema.parse({
          status: 'duplicate',
          delivery: id,
          content_id: null,
          operation_id: null,
          reason: null,
        }),
        200,
      );
    };
    // Redis answers first (the hot path); the log's unique index holds if Redis forgot.
    const fresh = await services
      .guard('redis', () =>
        services.redis.set(seenKey, '1', { nx: true, ex: REPLAY_WINDOW_SECONDS }),
      )
      .then((answer) => answer !== null)
      .catch(() => true);
    if (!fresh) return duplicate();
    let logId: string | null;
    try {
      logId = await recordDelivery(services, source, { status: 'accepted', deliveryId });
    } catch (error) {
      // Nothing was taken: forget the id so the upstream's retry is not a "duplicate".
      await services.redis.del(seenKey).catch(() => {});
      throw error;
    }
    if (logId === null) return duplicate();

    const unmapped = async (
      reason: string,
      fields: { eventType?: string | null; externalId?: string | null; contentId?: string | null },
    ) => {
      await settleDelivery(services, logId, { status: 'unmapped', reason, ...fields });
      return c.json(
        ReceiptSchema.parse({
          status: 'unmapped',
          delivery: logId,
          content_id: fields.contentId ?? null,
          operation_id: null,
          reason,
        }),
        200,
      );
    };
    let payload: unknown;
    try {
      payload = JSON.parse(
        new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(body),
      );
    } catch {
      return unmapped(body.length === 0 ? 'the body is empty' : 'the body is not UTF-8 JSON', {});
    }
    const mapping = Mapping.safeParse(config.mapping);
    if (!mapping.success) return unmapped('the source has no valid mapping', {});
    const mapped = applyMapping(payload, mapping.data);
    if (!mapped.ok) return unmapped(mapped.reason, {});
    const fields = { eventType: mapped.eventType, externalId: mapped.externalId };

    let result: Awaited<ReturnType<typeof ingest>>;
    try {
      result = await ingest(requestIngestContext(c), source, mapped);
    } catch (error) {
      result = { status: 'failed', reason: 'the write could not be made' };
      c.var.logger.error('inbound delivery not applied', { source_id: source.id, error });
    }
    if (result.status === 'failed') {
      await Promise.allSettled([
        settleDelivery(services, logId, { status: 'failed', reason: result.reason, ...fields }),
        services.redis.del(seenKey),
      ]);
      throw new AppError({
        code: 'SERVICE_UNAVAILABLE',
        message: 'The delivery could not be applied now; retry it later.',
        headers: { 'Retry-After': String(WRITE_RETRY_AFTER_SECONDS) },
      });
    }
    if (result.status === 'unmapped') {
      return unmapped(result.reason, { ...fields, contentId: result.contentId });
    }
    await settleDelivery(services, logId, {
      status: 'applied',
      ...fields,
      contentId: result.contentId,
      operationId: result.operationId,
    });
    return c.json(
      ReceiptSchema.parse({
        status: 'applied',
        delivery: logId,
        content_id: result.contentId,
        operation_id: result.operationId,
        reason: null,
      }),
      202,
    );
  });
}
