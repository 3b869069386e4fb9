import { and, asc, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { AuditRecord } from '../audit.ts';
import { WEBHOOK_DISPATCH, type WebhookDispatch } from '../content/fanout.ts';
import {
  type WebhookAttemptOutcome,
  webhookAttempts,
  webhookDeliveries,
  webhookEndpoints,
} from '../db/schema/webhooks.ts';
import { secretKeys, webhookCallbackUrl } from '../env.ts';
import { isId, newId } from '../ids.ts';
import { openSecret } from '../secret-box.ts';
import type { Services } from '../services.ts';
import { printable } from '../text/storable.ts';
import { ENDPOINT_DISABLED_EVENT, subscribes, webhookBody } from './events.ts';
import { checkDestinationResolved } from './resolve.ts';
import { attemptOutcome, nextAttemptDelay } from './retries.ts';
import { signAttempt } from './signing.ts';

/**
 * Outbound webhook delivery. `webhook.dispatch` makes one delivery row per event per subscribed
 * endpoint and hands its first attempt to QStash; QStash calls the Worker back
 * (`POST /internal/webhooks/deliver`) when an attempt is due, and the Worker makes it: it claims
 * the attempt (so a repeated callback is a no-op), signs the body afresh, POSTs it, records what
 * came back and, if it failed and attempts are left, hands the next one to QStash with the
 * schedule's delay (`retries.ts`). Nothing waits in memory: a delivery is `pending` with
 * `next_attempt_at` set until it ends `delivered` or `failed`, and a sweeper schedules again any
 * attempt QStash has not made ten minutes after it was due.
 */

/** An endpoint has this long to answer (connecting and reading included). */
export const ATTEMPT_TIMEOUT_MS = 15_000;
/** How much of an endpoint's answer each attempt keeps. */
export const RESPONSE_KEPT_BYTES = 1_024;
/** A claimed attempt not recorded after this long is taken for lost. */
export const CLAIM_LEASE_MS = 2 * 60_000;
/** The sweeper schedules again an attempt this overdue. */
export const OVERDUE_MS = 10 * 60_000;
/** An endpoint whose every attempt failed for this long is disabled. */
export const FAILING_DISABLE_MS = 5 * 24 * 60 * 60_000;
/** QStash retries a callback the Worker could not take (a 5xx) this many times. */
export const CALLBACK_RETRIES = 3;
/** QStash's batch limit. */
const QSTASH_BATCH = 100;
/** Rows per insert (Postgres' parameter limit is far above this). */
const INSERT_CHUNK = 500;
export const USER_AGENT = 'Sift-Webhooks/1.0 (+https://github.com/standard-webhooks)';

const SECRET_CONTEXT = (endpointId: string) => `webhook_endpoints:${endpointId}`;
/** The previous secret is sealed in its own context, so it cannot be swapped in as current. */
const PREVIOUS_SECRET_CONTEXT = (endpointId: string) => `webhook_endpoints:${endpointId}:previous`;

export { PREVIOUS_SECRET_CONTEXT, SECRET_CONTEXT };

/** The body of QStash's callback: which attempt of which delivery is due. */
export const AttemptMessage = z.object({
  org_id: z.string().refine((id) => isId('organization', id), 'must be an organisation id'),
  delivery_id: z.string().refine((id) => isId('delivery', id), 'must be a delivery id (dlv_…)'),
  attempt: z.number().int().min(1).max(1_000_000),
});
export type AttemptMessage = z.output<typeof AttemptMessage>;

export type ScheduledAttempt = {
  orgId: string;
  deliveryId: string;
  attempt: number;
  delayMs: number;
};

/**
 * Hands attempts to QStash (in batches of 100), each to call the Worker back after its delay,
 * and records the message ids. Throws when QStash refuses; a caller that cannot retry leaves the
 * delivery to the sweeper.
 */
export async function scheduleAttempts(
  services: Services,
  attempts: ScheduledAttempt[],
): Promise<void> {
  const url = webhookCallbackUrl(services.env);
  const published: { id: string; message_id: string }[] = [];
  for (let i = 0; i < attempts.length; i += QSTASH_BATCH) {
    const chunk = attempts.slice(i, i + QSTASH_BATCH);
    const responses = await services.guard('qstash', () =>
      services.qstash.batchJSON(
        chunk.map((a) => ({
          url,
          body: { org_id: a.orgId, delivery_id: a.deliveryId, attempt: a.attempt },
          retries: CALLBACK_RETRIES,
          ...(a.delayMs > 0 ? { delay: Math.ceil(a.delayMs / 1000) } : {}),
        })),
      ),
    );
    responses.forEach((response, j) => {
      if ('messageId' in response)
        published.push({ id: chunk[j]!.deliveryId, message_id: response.messageId });
    });
  }
  if (published.length === 0) return;
  await services.db.execute(sql`
    update ${webhookDeliveries} as d set qstash_message_id = v.message_id
    from jsonb_to_recordset(${JSON.stringify(published)}::jsonb) as v(id text, message_id text)
    where d.id = v.id`);
}

/**
 * The `webhook.dispatch` messages of one queue batch: one read of the organisations' live
 * endpoints, one insert of the deliveries (a delivery already made for an event and endpoint is
 * kept, so a redelivered message adds nothing), and their first attempts handed to QStash — also
 * those an earlier try of the same messages recorded but could not hand over.
 */
export async function dispatchEvents(
  services: Services,
  events: WebhookDispatch[],
): Promise<number> {
  const { db } = services;
  const orgIds = [...new Set(events.map((e) => e.org_id))];
  const endpoints = await db
    .select({
      id: webhookEndpoints.id,
      orgId: webhookEndpoints.orgId,
      eventTypes: webhookEndpoints.eventTypes,
    })
    .from(webhookEndpoints)
    .where(and(inArray(webhookEndpoints.orgId, orgIds), isNull(webhookEndpoints.disabledAt)));
  if (endpoints.length === 0) return 0;
  const now = new Date();
  const rows: (typeof webhookDeliveries.$inferInsert)[] = [];
  for (const { org_id, event } of events) {
    for (const endpoint of endpoints) {
      if (endpoint.orgId !== org_id || !subscribes(endpoint.eventTypes, event.type)) continue;
      rows.push({
        id: newId('delivery'),
        orgId: org_id,
        endpointId: endpoint.id,
        eventType: event.type,
        eventId: event.id,
        body: webhookBody(event),
        nextAttemptAt: now,
        createdAt: now,
        updatedAt: now,
      });
    }
  }
  if (rows.length === 0) return 0;
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await db
      .insert(webhookDeliveries)
      .values(rows.slice(i, i + INSERT_CHUNK))
      .onConflictDoNothing();
  }
  const due = await db
    .select({ id: webhookDeliveries.id, orgId: webhookDeliveries.orgId })
    .from(webhookDeliveries)
    .where(
      and(
        inArray(webhookDeliveries.orgId, orgIds),
        inArray(webhookDeliveries.eventId, [...new Set(rows.map((r) => r.eventId))]),
        inArray(webhookDeliveries.endpointId, [...new Set(rows.map((r) => r.endpointId))]),
        eq(webhookDeliveries.status, 'pending'),
        eq(webhookDeliveries.attempts, 0),
        isNull(webhookDeliveries.qstashMessageId),
      ),
    );
  await scheduleAttempts(
    services,
    due.map((d) => ({ orgId: d.orgId, deliveryId: d.id, attempt: 1, delayMs: 0 })),
  );
  return due.length;
}

/** What one endpoint answered, or why it did not. */
type Sent = {
  status: number | null;
  headers: Headers;
  latencyMs: number;
  body: string | null;
  error: string | null;
};

/** The first {@link RESPONSE_KEPT_BYTES} of a body as text; the rest is not read. */
async function bodyPrefix(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < RESPONSE_KEPT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(Math.min(size, RESPONSE_KEPT_BYTES));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, bytes.length - offset);
    bytes.set(part, offset);
    offset += part.length;
    if (offset === bytes.length) break;
  }
  return printable(new TextDecoder().decode(bytes));
}

async function send(
  fetcher: typeof fetch,
  url: URL,
  headers: Record<string, string>,
  body: string,
): Promise<Sent> {
  const started = Date.now();
  const signal = AbortSignal.timeout(ATTEMPT_TIMEOUT_MS);
  try {
    const response = await fetcher(url, {
      method: 'POST',
      headers: {
        ...headers,
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
      },
      body,
      // A redirect is the endpoint's answer (a failure), never followed: it could lead anywhere.
      redirect: 'manual',
      signal,
    });
    const text = await bodyPrefix(response);
    return {
      status: response.status,
      headers: response.headers,
      latencyMs: Date.now() - started,
      body: text,
      error: null,
    };
  } catch (error) {
    const timedOut = signal.aborted;
    return {
      status: null,
      headers: new Headers(),
      latencyMs: Date.now() - started,
      body: null,
      error: timedOut
        ? `no answer within ${ATTEMPT_TIMEOUT_MS / 1000} s`
        : printable(`connection failed: ${error instanceof Error ? error.message : String(error)}`),
    };
  }
}

export type AttemptResult =
  /** A repeated or stale callback: the attempt was made (or the delivery ended) already. */
  | { outcome: 'skipped' }
  /** The endpoint was disabled or deleted before the attempt: the delivery ends `failed`. */
  | { outcome: 'endpoint_disabled' }
  | {
      outcome: WebhookAttemptOutcome;
      attempt: number;
      status_code: number | null;
      next_attempt_at: string | null;
      endpoint_disabled: 'gone' | 'failing' | null;
    };

/**
 * Makes attempt `message.attempt` of a delivery, if it is still due: signs and sends the body,
 * records the attempt on the delivery and its endpoint, schedules the next one when it failed
 * and attempts are left, and disables the endpoint on a `410 Gone` or after five days of
 * failures (audited, and told to the organisation's other endpoints).
 */
export async function makeAttempt(
  services: Services,
  message: AttemptMessage,
  fetcher: typeof fetch = fetch,
): Promise<AttemptResult> {
  const { db } = services;
  const claimedAt = Date.now();
  const [delivery] = await db
    .update(webhookDeliveries)
    .set({
      attempts: message.attempt,
      nextAttemptAt: new Date(claimedAt + CLAIM_LEASE_MS),
      updatedAt: new Date(claimedAt),
    })
    .where(
      and(
        eq(webhookDeliveries.orgId, message.org_id),
        eq(webhookDeliveries.id, message.delivery_id),
        eq(webhookDeliveries.status, 'pending'),
        eq(webhookDeliveries.attempts, message.attempt - 1),
      ),
    )
    .returning();
  if (!delivery) return { outcome: 'skipped' };
  const thisAttempt = and(
    eq(webhookDeliveries.id, delivery.id),
    eq(webhookDeliveries.attempts, message.attempt),
  );
  try {
    const [endpoint] = await db
      .select()
      .from(webhookEndpoints)
      .where(
        and(
          eq(webhookEndpoints.orgId, delivery.orgId),
          eq(webhookEndpoints.id, delivery.endpointId),
        ),
      );
    if (!endpoint || endpoint.disabledAt) {
      await db
        .update(webhookDeliveries)
        .set({
          status: 'failed',
          attempts: message.attempt - 1,
          nextAttemptAt: null,
          lastError: 'the endpoint is disabled',
        })
        .where(thisAttempt);
      return { outcome: 'endpoint_disabled' };
    }
    const keys = secretKeys(services.env);
    const secrets = [
      (await openSecret(keys, endpoint.secretCiphertext, SECRET_CONTEXT(endpoint.id))).plaintext,
    ];
    if (
      endpoint.previousSecretCiphertext &&
      endpoint.previousSecretExpiresAt &&
      endpoint.previousSecretExpiresAt.getTime() > claimedAt
    ) {
      const previous = await openSecret(
        keys,
        endpoint.previousSecretCiphertext,
        PREVIOUS_SECRET_CONTEXT(endpoint.id),
      );
      secrets.push(previous.plaintext);
    }
    // The URL as written and every address its name resolves to now (DNS may have changed
    // since the URL was set). A resolver that cannot answer leaves it unchecked: the attempt
    // fails and is retried, and does not count against the endpoint.
    const destination = await checkDestinationResolved(
      endpoint.url,
      { allowLoopback: services.env.WEBHOOKS_ALLOW_LOOPBACK },
      services.env.WEBHOOKS_DNS_RESOLVER,
    );
    const unchecked = !destination.ok && destination.unavailable === true;
    const attemptedAt = new Date();
    const headers = await signAttempt(
      secrets,
      delivery.id,
      Math.floor(attemptedAt.getTime() / 1000),
      delivery.body,
    );
    const sent: Sent = destination.ok
      ? await send(fetcher, destination.url, headers, delivery.body)
      : {
          status: null,
          headers: new Headers(),
          latencyMs: 0,
          body: null,
          error: unchecked
            ? `DNS unavailable: the URL ${destination.reason}`
            : `destination refused: the URL ${destination.reason}`,
        };
    const now = Date.now();
    const outcome =
      sent.status === null
        ? ({ kind: 'failed', retryAfterMs: null } as const)
        : attemptOutcome(sent.status, sent.headers, now);
    const delay =
      outcome.kind === 'failed'
        ? nextAttemptDelay(message.attempt - delivery.scheduleBase, {
            retryAfterMs: outcome.retryAfterMs,
          })
        : null;
    const nextAttemptAt = delay === null ? null : new Date(now + delay);
    const lastError =
      outcome.kind === 'delivered'
        ? null
        : (sent.error ??
          (outcome.kind === 'gone'
            ? 'the endpoint answered 410 Gone: it is disabled'
            : `the endpoint answered ${sent.status}`));
    // The attempt first: a delivery never shows an outcome its log does not hold yet.
    await db
      .insert(webhookAttempts)
      .values({
        id: newId('webhookAttempt'),
        orgId: delivery.orgId,
        deliveryId: delivery.id,
        attempt: message.attempt,
        url: endpoint.url,
        outcome: outcome.kind,
        statusCode: sent.status,
        latencyMs: Math.max(0, Math.round(sent.latencyMs)),
        responseBody: sent.body,
        error: sent.error,
        attemptedAt,
      })
      .onConflictDoNothing();
    await db
      .update(webhookDeliveries)
      .set({
        status: outcome.kind === 'delivered' ? 'delivered' : delay === null ? 'failed' : 'pending',
        deliveredAt: outcome.kind === 'delivered' ? new Date(now) : null,
        nextAttemptAt,
        lastStatusCode: sent.status,
        lastError,
        updatedAt: new Date(now),
      })
      .where(thisAttempt);
    const endpointWhere = and(
      eq(webhookEndpoints.orgId, endpoint.orgId),
      eq(webhookEndpoints.id, endpoint.id),
    );
    // An attempt whose destination could not be checked (Sift's resolver failed) says nothing
    // about the endpoint: its failure count, failing streak and so its disabling are left alone.
    const [stats] = unchecked
      ? []
      : await db
          .update(webhookEndpoints)
          .set(
            outcome.kind === 'delivered'
              ? { failureCount: 0, failingSince: null, lastSuccessAt: new Date(now) }
              : {
                  failureCount: sql`${webhookEndpoints.failureCount} + 1`,
                  failingSince: sql`coalesce(${webhookEndpoints.failingSince}, ${attemptedAt.toISOString()}::timestamptz)`,
                  lastFailureAt: new Date(now),
                },
          )
          .where(endpointWhere)
          .returning({ failingSince: webhookEndpoints.failingSince });
    let disabled: 'gone' | 'failing' | null = null;
    if (outcome.kind === 'gone') disabled = 'gone';
    else if (
      outcome.kind === 'failed' &&
      !unchecked &&
      stats?.failingSince &&
      now - stats.failingSince.getTime() >= FAILING_DISABLE_MS
    )
      disabled = 'failing';
    if (disabled) {
      const [off] = await db
        .update(webhookEndpoints)
        .set({ disabledAt: new Date(now), disabledReason: disabled, updatedAt: new Date(now) })
        .where(and(endpointWhere, isNull(webhookEndpoints.disabledAt)))
        .returning();
      if (off) await endpointDisabled(services, off, disabled, sent.status);
      else disabled = null;
    }
    if (nextAttemptAt && delay !== null) {
      await scheduleAttempts(services, [
        {
          orgId: delivery.orgId,
          deliveryId: delivery.id,
          attempt: message.attempt + 1,
          delayMs: delay,
        },
      ]).catch((error: unknown) => {
        // Recorded as due: the sweeper schedules it once it is overdue.
        services.logger.warn('next webhook attempt not scheduled; the sweeper will', {
          delivery_id: delivery.id,
          error,
        });
      });
    }
    return {
      outcome: outcome.kind,
      attempt: message.attempt,
      status_code: sent.status,
      next_attempt_at: nextAttemptAt?.toISOString() ?? null,
      endpoint_disabled: disabled,
    };
  } catch (error) {
    // Give the claim back, so QStash's retry of this callback makes the attempt.
    await db
      .update(webhookDeliveries)
      .set({ attempts: message.attempt - 1, nextAttemptAt: new Date() })
      .where(and(thisAttempt, eq(webhookDeliveries.status, 'pending')))
      .catch(() => {});
    throw error;
  }
}

/**
 * Tells the organisation that Sift disabled an endpoint: an audit entry (actor `system`) and a
 * `webhook_endpoint.disabled` event for its other endpoints. Failures are logged: the endpoint
 * is disabled either way.
 */
async function endpointDisabled(
  services: Services,
  endpoint: typeof webhookEndpoints.$inferSelect,
  reason: 'gone' | 'failing',
  statusCode: number | null,
): Promise<void> {
  const occurredAt = new Date().toISOString();
  const record: AuditRecord = {
    id: newId('auditLog'),
    org_id: endpoint.orgId,
    actor_type: 'system',
    actor_id: null,
    action: 'webhook_endpoint.disable',
    target_type: 'webhook_endpoint',
    target_id: endpoint.id,
    ip: null,
    user_agent: null,
    request_id: null,
    trace_id: null,
    data: {
      reason,
      url: endpoint.url,
      failing_since: endpoint.failingSince?.toISOString() ?? null,
      last_status_code: statusCode,
    },
    created_at: occurredAt,
  };
  const event: WebhookDispatch = {
    org_id: endpoint.orgId,
    event: {
      id: newId('event'),
      type: ENDPOINT_DISABLED_EVENT,
      occurred_at: occurredAt,
      data: {
        endpoint: {
          id: endpoint.id,
          url: endpoint.url,
          disabled_reason: reason,
          failing_since: endpoint.failingSince?.toISOString() ?? null,
        },
      },
    },
  };
  services.logger.warn('webhook endpoint disabled', { endpoint_id: endpoint.id, reason });
  const results = await Promise.allSettled([
    services.enqueue('events', 'audit.record', record, { orgId: endpoint.orgId }),
    services.enqueue('jobs', WEBHOOK_DISPATCH, event, { orgId: endpoint.orgId }),
  ]);
  for (const result of results) {
    if (result.status === 'rejected')
      services.logger.error('endpoint disabled, but not told', {
        endpoint_id: endpoint.id,
        error: result.reason,
      });
  }
}

/**
 * Schedules again the attempts QStash has not made {@link OVERDUE_MS} after they were due (a
 * callback it gave up on, an attempt whose record was lost), oldest first, at most `limit`.
 * Each is pushed {@link OVERDUE_MS} later, so a sweep does not repeat the previous one's work.
 */
export async function sweepOverdue(services: Services, limit = 500): Promise<number> {
  const { db } = services;
  const now = Date.now();
  const overdue = db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.status, 'pending'),
        lt(webhookDeliveries.nextAttemptAt, new Date(now - OVERDUE_MS)),
      ),
    )
    .orderBy(asc(webhookDeliveries.nextAttemptAt))
    .limit(limit);
  const rows = await db
    .update(webhookDeliveries)
    .set({ nextAttemptAt: new Date(now + OVERDUE_MS) })
    .where(inArray(webhookDeliveries.id, overdue))
    .returning({
      id: webhookDeliveries.id,
      orgId: webhookDeliveries.orgId,
      attempts: webhookDeliveries.attempts,
    });
  await scheduleAttempts(
    services,
    rows.map((r) => ({ orgId: r.orgId, deliveryId: r.id, attempt: r.attempts + 1, delayMs: 0 })),
  );
  return rows.length;
}
