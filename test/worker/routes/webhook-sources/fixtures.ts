import { and, eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { webhookSourceDeliveries, webhookSources } from '../../../../shared/db/schema/index.ts';
import type { WebhookSourceKind } from '../../../../shared/db/schema/webhooks.ts';
import {
  type HmacSettings,
  type PushedSourceKind,
  signDelivery,
} from '../../../../shared/webhook-sources/signature.ts';
import { call, eventually, testDb } from '../../helpers.ts';
import { json } from '../keys/fixtures.ts';

export type Auth = Record<string, string>;

export type SourceBody = {
  id: string;
  name: string;
  kind: WebhookSourceKind;
  enabled: boolean;
  inbound_path: string | null;
  mapping: Record<string, unknown> | null;
  feed: Record<string, unknown> | null;
  poll: Record<string, unknown> | null;
  hmac: HmacSettings | null;
  previous_secret_expires_at: string | null;
  last_received_at: string | null;
  failure_count: number;
  last_failure_at: string | null;
  last_failure_reason: string | null;
  created_by: string | null;
  created_at: string;
  updated_at: string;
  secret?: string;
};

export const MAPPING = {
  external_id: '/id',
  title: '/title',
  body: '/body',
  locale: '/lang',
  event_type: '/type',
  delete_events: ['post.deleted'],
};

export const HMAC: HmacSettings = {
  signature_header: 'X-Signature',
  algorithm: 'sha512',
  encoding: 'base64',
  prefix: 'sig=',
  timestamp_header: 'X-Timestamp',
  delivery_id_header: 'X-Delivery-Id',
};

/** Creates a source through the API; answers it with its secret. */
export async function createSource(
  auth: Auth,
  body: Record<string, unknown> = {},
): Promise<SourceBody & { secret: string }> {
  const kind = (body.kind as string | undefined) ?? 'standard';
  const response = await call(
    '/v1/webhooks/sources',
    json(
      'POST',
      {
        name: 'Upstream CMS',
        kind,
        mapping: MAPPING,
        ...(kind === 'hmac' ? { hmac: HMAC } : {}),
        ...body,
      },
      auth,
    ),
  );
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as SourceBody & { secret: string };
}

let counter = 0;
/** A delivery id unique to this run. */
export const deliveryId = () =>
  `msg_${Date.now().toString(36)}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;

export type DeliverOptions = {
  id?: string;
  /** Unix seconds (default now). */
  timestamp?: number;
  secret?: string;
  headers?: Record<string, string>;
  /** Headers to leave out of the signed set. */
  omit?: string[];
  raw?: string;
  query?: string;
  /** Bindings replaced for this call (a dependency down). */
  overrides?: Parameters<typeof call>[2];
};

/** Posts `payload` to the source as its upstream would, signed by its scheme. */
export async function deliver(
  source: Pick<SourceBody, 'id' | 'kind'> & { secret: string; hmac?: HmacSettings | null },
  payload: unknown,
  options: DeliverOptions = {},
): Promise<Response> {
  const text = options.raw ?? JSON.stringify(payload);
  const signed = await signDelivery(
    source.kind as PushedSourceKind,
    options.secret ?? source.secret,
    text,
    {
      id: options.id ?? deliveryId(),
      timestamp: options.timestamp ?? Math.floor(Date.now() / 1000),
      ...(source.kind === 'hmac' ? { hmac: source.hmac ?? HMAC } : {}),
    },
  );
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ...signed };
  for (const name of options.omit ?? []) {
    for (const key of Object.keys(headers))
      if (key.toLowerCase() === name.toLowerCase()) delete headers[key];
  }
  return call(
    `/webhooks/inbound/${source.id}${options.query ?? ''}`,
    {
      method: 'POST',
      headers: { ...headers, ...options.headers },
      body: text,
    },
    options.overrides,
  );
}

export async function sourceRow(id: string) {
  const [row] = await testDb().select().from(webhookSources).where(eq(webhookSources.id, id));
  return row!;
}

/** The source's delivery log rows with `status`, once there are `count` of them. */
export function deliveriesEventually(sourceId: string, status: string, count = 1) {
  return eventually(async () => {
    const rows = await testDb()
      .select()
      .from(webhookSourceDeliveries)
      .where(and(eq(webhookSourceDeliveries.sourceId, sourceId)));
    const matching = rows.filter((r) => r.status === status);
    return matching.length >= count ? matching : undefined;
  }, 20_000);
}
