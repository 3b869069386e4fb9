import { and, eq } from 'drizzle-orm';
import { expect, inject } from 'vitest';
import { WEBHOOK_DISPATCH, type WebhookDispatch } from '../../../../shared/content/fanout.ts';
import {
  webhookAttempts,
  webhookDeliveries,
  webhookEndpoints,
} from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import { sealSecret } from '../../../../shared/secret-box.ts';
import { verifyDelivery } from '../../../../shared/webhook-sources/signature.ts';
import { SECRET_CONTEXT } from '../../../../shared/webhooks/delivery.ts';
import type { DnsEntry, LabRequest } from '../../../helpers/webhook-lab.ts';
import { call, eventually, testDb, testServices } from '../../helpers.ts';
import { json } from '../keys/fixtures.ts';

export type Auth = Record<string, string>;

/** The webhook lab of the suite (`test/helpers/webhook-lab.ts`). */
export const LAB = inject('webhookLab');

/** Settings for calls that let endpoints live on this machine (the lab is on loopback). */
export const LOOPBACK = { WEBHOOKS_ALLOW_LOOPBACK: 'true' };

export type EndpointBody = {
  id: string;
  url: string;
  description: string | null;
  event_types: string[];
  enabled: boolean;
  disabled_reason: string | null;
  disabled_at: string | null;
  failure_count: number;
  failing_since: string | null;
  last_success_at: string | null;
  last_failure_at: string | null;
  previous_secret_expires_at: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
  secret?: string;
};

export type DeliveryBody = {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  created_at: string;
  delivered_at: string | null;
  payload?: { id: string; type: string; timestamp: string; data: Record<string, unknown> };
  attempt_log?: {
    attempt: number;
    attempted_at: string;
    url: string;
    outcome: string;
    status_code: number | null;
    latency_ms: number;
    response_body: string | null;
    error: string | null;
  }[];
};

/** A receiver in the lab: its URL, what it got, and how it answers next. */
export function hook(name = `r${crypto.randomUUID().slice(0, 12)}`) {
  const url = `${LAB}/hooks/${name}`;
  return {
    url,
    async received(): Promise<LabRequest[]> {
      return (await (await fetch(url)).json()) as LabRequest[];
    },
    async replies(list: { status: number; headers?: Record<string, string>; body?: string }[]) {
      const response = await fetch(`${url}/replies`, { method: 'PUT', body: JSON.stringify(list) });
      expect(response.status).toBe(204);
    },
  };
}

/** Sets what the lab's DNS-over-HTTPS resolver answers for `name` (the Worker's resolver). */
export async function dnsAnswer(name: string, entry: DnsEntry): Promise<void> {
  const response = await fetch(`${LAB}/dns-zone/${name}`, {
    method: 'PUT',
    body: JSON.stringify(entry),
  });
  expect(response.status).toBe(204);
}

/** Creates an endpoint through the API (loopback allowed); answers it with its secret. */
export async function createEndpoint(
  auth: Auth,
  body: Record<string, unknown>,
): Promise<EndpointBody & { secret: string }> {
  const response = await call('/v1/webhooks/endpoints', json('POST', body, auth), LOOPBACK);
  const text = await response.text();
  expect(response.status, text).toBe(201);
  return JSON.parse(text) as EndpointBody & { secret: string };
}

/** An endpoint row straight into Postgres (for the isolation and outage suites). */
export async function insertEndpoint(
  orgId: string,
  secretsKey: string,
  overrides: Partial<typeof webhookEndpoints.$inferInsert> = {},
) {
  const id = newId('webhookEndpoint');
  const secret = 'whsec_aXNvbGF0aW9uLWVuZHBvaW50LXNpZ25pbmcta2V5LTMyYg==';
  await testDb()
    .insert(webhookEndpoints)
    .values({
      id,
      orgId,
      url: 'https://hooks.example.com/isolation',
      eventTypes: ['*'],
      secretCiphertext: await sealSecret({ current: secretsKey }, secret, SECRET_CONTEXT(id)),
      ...overrides,
    });
  return { id, secret };
}

/** A failed delivery row of an endpoint (for replay and recover). */
export async function insertDelivery(
  orgId: string,
  endpointId: string,
  overrides: Partial<typeof webhookDeliveries.$inferInsert> = {},
) {
  const id = newId('delivery');
  const eventId = newId('event');
  await testDb()
    .insert(webhookDeliveries)
    .values({
      id,
      orgId,
      endpointId,
      eventType: 'webhook.test',
      eventId,
      body: JSON.stringify({ id: eventId, type: 'webhook.test', timestamp: new Date(), data: {} }),
      status: 'failed',
      attempts: 10,
      lastError: 'the endpoint answered 500',
      ...overrides,
    });
  return id;
}

/** Sends a `webhook.dispatch` message for `event` of `orgId` through the JOBS queue. */
export async function dispatch(orgId: string, event: WebhookDispatch['event']): Promise<void> {
  await testServices().enqueue('jobs', WEBHOOK_DISPATCH, { org_id: orgId, event }, { orgId });
}

/** A content event of `orgId` as the WRITES consumer fans it out. */
export function contentEvent(
  type = 'content.published',
  contentId = newId('content'),
): WebhookDispatch['event'] {
  const now = new Date().toISOString();
  return {
    id: `${contentId}.v2`,
    type: type as 'content.published',
    occurred_at: now,
    data: {
      content: {
        id: contentId,
        version: 2,
        status: 'published',
        available_locales: ['en'],
        updated_at: now,
        deleted_at: null,
      },
      operation_id: newId('operation'),
    },
  };
}

/** The deliveries of an endpoint in Postgres. */
export function deliveryRows(orgId: string, endpointId: string) {
  return testDb()
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.orgId, orgId), eq(webhookDeliveries.endpointId, endpointId)));
}

export function attemptRows(orgId: string, deliveryId: string) {
  return testDb()
    .select()
    .from(webhookAttempts)
    .where(and(eq(webhookAttempts.orgId, orgId), eq(webhookAttempts.deliveryId, deliveryId)));
}

/** The delivery of `endpointId`, once the JOBS consumer has made it. */
export async function deliveryEventually(orgId: string, endpointId: string, timeoutMs = 20_000) {
  return eventually(async () => (await deliveryRows(orgId, endpointId))[0], timeoutMs);
}

/**
 * Waits for QStash to call back for attempt `attempt` of a delivery (it calls the lab), then
 * hands that call — its `Upstash-Signature` and body as QStash sent them — to the Worker, as
 * QStash would have. Answers the Worker's response and JSON.
 */
export async function runAttempt(
  deliveryId: string,
  attempt: number,
  overrides: Record<string, unknown> = LOOPBACK,
  timeoutMs = 20_000,
) {
  const qstashCall = await eventually(async () => {
    const calls = (await (
      await fetch(`${LAB}/qstash/calls?delivery_id=${deliveryId}`)
    ).json()) as LabRequest[];
    return calls.find((c) => (JSON.parse(c.body) as { attempt: number }).attempt === attempt);
  }, timeoutMs);
  const response = await forward(qstashCall, overrides);
  return { response, result: (await response.json()) as Record<string, unknown>, call: qstashCall };
}

/** Hands a call QStash made to the Worker's callback route. */
export function forward(qstashCall: LabRequest, overrides: Record<string, unknown> = LOOPBACK) {
  return call(
    '/internal/webhooks/deliver',
    {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'upstash-signature': qstashCall.headers['upstash-signature'] ?? '',
      },
      body: qstashCall.body,
    },
    overrides,
  );
}

/** Checks a request the receiver got as a Standard Webhooks receiver would, with `secret`. */
export async function verifies(request: LabRequest, secret: string): Promise<boolean> {
  const headers = new Headers(request.headers);
  const verified = await verifyDelivery({
    kind: 'standard',
    secrets: [secret],
    headers,
    body: new TextEncoder().encode(request.body),
    now: Date.now(),
  });
  return verified.ok;
}

/** The API's view of a delivery. */
export async function getDelivery(auth: Auth, endpointId: string, deliveryId: string) {
  const response = await call(`/v1/webhooks/endpoints/${endpointId}/deliveries/${deliveryId}`, {
    headers: auth,
  });
  expect(response.status).toBe(200);
  return (await response.json()) as DeliveryBody;
}
