import { sql } from 'drizzle-orm';
import {
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  unique,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { newId } from '../../ids.ts';
import { actor, actorCheck, createdAt, timestamptz, updatedAt } from './columns.ts';
import { organizations } from './tenancy.ts';

export const webhookSourceKind = pgEnum('webhook_source_kind', [
  'standard',
  'github',
  'stripe',
  'hmac',
  'feed',
]);
export type WebhookSourceKind = (typeof webhookSourceKind.enumValues)[number];

export const feedPollStatus = pgEnum('feed_poll_status', ['ok', 'not_modified', 'failed']);
export type FeedPollStatus = (typeof feedPollStatus.enumValues)[number];

/**
 * An upstream system that pushes content in (`POST /webhooks/inbound/:id`), or, of kind `feed`,
 * an RSS or Atom feed Sift polls (`config.feed`; `shared/feeds/`). The signing secret is needed
 * in clear to verify signatures, so it is stored sealed (`shared/secret-box.ts`, bound to
 * `webhook_sources:<id>`, with a key outside the database), never hashed; a feed has none. After
 * a rotation the previous secret stays valid until `previous_secret_expires_at`, so the upstream
 * can switch. A feed's poll state (validators for conditional GET, schedule, failures) lives on
 * its row; `next_poll_at` is set for feeds only.
 */
export const webhookSources = pgTable(
  'webhook_sources',
  {
    id: text('id')
      .primaryKey()
      .$defaultFn(() => newId('webhookSource')),
    orgId: text('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /**
     * The signature scheme: `standard` (Standard Webhooks), `github`, `stripe` or `hmac`; or
     * `feed` (polled, nothing pushed, no secret).
     */
    kind: webhookSourceKind('kind').notNull(),
    /** Null for a feed (nothing to verify). */
    secretCiphertext: text('secret_ciphertext'),
    /** The secret before the last rotation, valid until `previous_secret_expires_at`. */
    previousSecretCiphertext: text('previous_secret_ciphertext'),
    previousSecretExpiresAt: timestamptz('previous_secret_expires_at'),
    /**
     * The mapping of payloads to content and the `hmac` kind's signature settings; a feed's URL,
     * interval and item defaults (`feed`).
     */
    config: jsonb('config').$type<Record<string, unknown>>().notNull().default({}),
    lastReceivedAt: timestamptz('last_received_at'),
    /** Deliveries refused (bad signature, stale timestamp, missing headers) since creation. */
    failureCount: integer('failure_count').notNull().default(0),
    lastFailureAt: timestamptz('last_failure_at'),
    lastFailureReason: text('last_failure_reason'),
    /** A feed's `ETag` from its last 200, sent back as `If-None-Match`. */
    feedEtag: text('feed_etag'),
    /** A feed's `Last-Modified` from its last 200, sent back as `If-Modified-Since`. */
    feedLastModified: text('feed_last_modified'),
    lastPolledAt: timestamptz('last_polled_at'),
    /** When a feed is polled next (null for other kinds). */
    nextPollAt: timestamptz('next_poll_at'),
    /**
     * While a poll of the feed runs, until when it may (its lease): no other run or `POST …/poll`
     * takes the feed meanwhile; a poll that died is taken again once it passes.
     */
    pollingUntil: timestamptz('polling_until'),
    lastPollStatus: feedPollStatus('last_poll_status'),
    /** The feed's HTTP status at the last poll (null when no answer came). */
    lastPollStatusCode: integer('last_poll_status_code'),
    /** Why the last poll failed; null after a success. */
    lastPollError: text('last_poll_error'),
    /** Polls failed in a row (the back-off's exponent); 0 after a success. */
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    /** Who created it (an actor reference: `settings:manage` may be an API key's). */
    createdBy: actor('created_by'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    disabledAt: timestamptz('disabled_at'),
  },
  (t) => [
    index('webhook_sources_org_created_idx').on(t.orgId, t.createdAt, t.id),
    unique('webhook_sources_org_id_key').on(t.orgId, t.id),
    check('webhook_sources_config_object', sql`jsonb_typeof(${t.config}) = 'object'`),
    check('webhook_sources_failure_count', sql`${t.failureCount} >= 0`),
    check('webhook_sources_consecutive_failures', sql`${t.consecutiveFailures} >= 0`),
    // Compared as text: the enum value `feed` is added in the same migration (transaction), where
    // Postgres refuses to use it.
    check(
      'webhook_sources_secret_unless_feed',
      sql`(${t.kind}::text = 'feed') = (${t.secretCiphertext} is null)`,
    ),
    check(
      'webhook_sources_poll_only_feeds',
      sql`${t.kind}::text = 'feed' or ${t.nextPollAt} is null`,
    ),
    // The poll-feeds cron looks across organisations for the feeds that are due.
    index('webhook_sources_next_poll_idx')
      .on(t.nextPollAt)
      .where(sql`${t.nextPollAt} is not null and ${t.disabledAt} is null`),
    check(
      'webhook_sources_previous_secret',
      sql`(${t.previousSecretCiphertext} is null) = (${t.previousSecretExpiresAt} is null)`,
    ),
    actorCheck('webhook_sources_created_by_actor', t.createdBy),
  ],
);

export const webhookSourceDeliveryStatus = pgEnum('webhook_source_delivery_status', [
  'accepted',
  'duplicate',
  'refused',
  'unmapped',
  'applied',
  'failed',
]);
export type WebhookSourceDeliveryStatus = (typeof webhookSourceDeliveryStatus.enumValues)[number];

/**
 * One delivery an upstream source made, and what became of it: the source's delivery log. The
 * upstream's delivery id is unique per source among the deliveries taken (`accepted`, `applied`,
 * `unmapped`): a replay is recorded as `duplicate` and a forgery as `refused`, neither holding the
 * id, and a `failed` one leaves it free for the upstream's retry. Rows older than the retention
 * period (30 days) are pruned.
 */
export const webhookSourceDeliveries = pgTable(
  'webhook_source_deliveries',
  {
    id: text('id')
      .primaryKey()
      .$defaultFn(() => newId('sourceDelivery')),
    orgId: text('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    sourceId: text('source_id').notNull(),
    /** The upstream's delivery id (`webhook-id`, `X-GitHub-Delivery`, ...); null when absent. */
    deliveryId: text('delivery_id'),
    status: webhookSourceDeliveryStatus('status').notNull(),
    /** Why it was refused, unmapped or failed. */
    reason: text('reason'),
    eventType: text('event_type'),
    externalId: text('external_id'),
    contentId: text('content_id'),
    operationId: text('operation_id'),
    receivedAt: timestamptz('received_at').notNull().defaultNow(),
    updatedAt: updatedAt(),
  },
  (t) => [
    foreignKey({
      name: 'webhook_source_deliveries_source_fk',
      columns: [t.orgId, t.sourceId],
      foreignColumns: [webhookSources.orgId, webhookSources.id],
    }).onDelete('cascade'),
    uniqueIndex('webhook_source_deliveries_source_delivery_key')
      .on(t.orgId, t.sourceId, t.deliveryId)
      .where(
        sql`${t.deliveryId} is not null and ${t.status} in ('accepted', 'applied', 'unmapped')`,
      ),
    index('webhook_source_deliveries_org_source_received_idx').on(
      t.orgId,
      t.sourceId,
      t.receivedAt,
      t.id,
    ),
  ],
);

/**
 * Which content item an upstream's `external_id` (a feed item's id) became, claimed once per source (the first
 * delivery of an id claims a new content id; later ones update that item), so two deliveries of
 * the same new item racing each other make one item, not two.
 */
export const webhookSourceItems = pgTable(
  'webhook_source_items',
  {
    orgId: text('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    sourceId: text('source_id').notNull(),
    externalId: text('external_id').notNull(),
    contentId: text('content_id').notNull(),
    /**
     * A feed item's fingerprint (SHA-256 of what it maps to) when it was last written: a poll
     * skips an item whose fingerprint is unchanged without touching the write path. Null for
     * pushed items.
     */
    fingerprint: text('fingerprint'),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ name: 'webhook_source_items_pkey', columns: [t.orgId, t.sourceId, t.externalId] }),
    foreignKey({
      name: 'webhook_source_items_source_fk',
      columns: [t.orgId, t.sourceId],
      foreignColumns: [webhookSources.orgId, webhookSources.id],
    }).onDelete('cascade'),
  ],
);

export const webhookEndpointDisabledReason = pgEnum('webhook_endpoint_disabled_reason', [
  'manual',
  'gone',
  'failing',
]);
export type WebhookEndpointDisabledReason =
  (typeof webhookEndpointDisabledReason.enumValues)[number];

/**
 * An outbound webhook endpoint (`/v1/webhooks/endpoints`; the table keeps its first name): a URL that receives the organisation's
 * events of the types it subscribes to, signed per Standard Webhooks with its secret. The secret
 * is sealed (`shared/secret-box.ts`, bound to `webhook_endpoints:<id>`): Sift signs with it, so it
 * is kept, never hashed. After a rotation the previous one also signs until
 * `previous_secret_expires_at`. An endpoint is disabled by hand (`manual`), when it answers `410
 * Gone` (`gone`), or when every attempt failed for five days (`failing`, since `failing_since`).
 */
export const webhookEndpoints = pgTable(
  'webhook_subscriptions',
  {
    id: text('id')
      .primaryKey()
      .$defaultFn(() => newId('webhookEndpoint')),
    orgId: text('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    description: text('description'),
    /** Event types delivered: exact (`content.published`), a family (`content.*`) or `*`. */
    eventTypes: text('event_types').array().notNull(),
    secretCiphertext: text('secret_ciphertext').notNull(),
    /** The secret before the last rotation, also signing until `previous_secret_expires_at`. */
    previousSecretCiphertext: text('previous_secret_ciphertext'),
    previousSecretExpiresAt: timestamptz('previous_secret_expires_at'),
    /** Failed attempts since the last success. */
    failureCount: integer('failure_count').notNull().default(0),
    /** The first failed attempt since the last success; null while it succeeds. */
    failingSince: timestamptz('failing_since'),
    lastSuccessAt: timestamptz('last_success_at'),
    lastFailureAt: timestamptz('last_failure_at'),
    disabledAt: timestamptz('disabled_at'),
    disabledReason: webhookEndpointDisabledReason('disabled_reason'),
    /** Who created it (an actor reference: `webhooks:manage` may be an API key's). */
    createdBy: actor('created_by'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('webhook_subscriptions_org_created_idx').on(t.orgId, t.createdAt, t.id),
    // Fan-out reads the organisation's live endpoints on every change.
    index('webhook_subscriptions_org_active_idx').on(t.orgId).where(sql`${t.disabledAt} is null`),
    unique('webhook_subscriptions_org_id_key').on(t.orgId, t.id),
    actorCheck('webhook_subscriptions_created_by_actor', t.createdBy),
    check('webhook_subscriptions_url_scheme', sql`${t.url} ~ '^https?://'`),
    check('webhook_subscriptions_event_types_present', sql`cardinality(${t.eventTypes}) >= 1`),
    check('webhook_subscriptions_failure_count', sql`${t.failureCount} >= 0`),
    check(
      'webhook_subscriptions_disabled_reason',
      sql`(${t.disabledAt} is null) = (${t.disabledReason} is null)`,
    ),
    check(
      'webhook_subscriptions_previous_secret',
      sql`(${t.previousSecretCiphertext} is null) = (${t.previousSecretExpiresAt} is null)`,
    ),
  ],
);

export const webhookDeliveryStatus = pgEnum('webhook_delivery_status', [
  'pending',
  'delivered',
  'failed',
]);
export type WebhookDeliveryStatus = (typeof webhookDeliveryStatus.enumValues)[number];

/**
 * One event for one endpoint, and how its delivery went. `body` is the JSON sent, fixed when the
 * event is dispatched; each attempt signs it afresh. `attempts` counts every attempt made;
 * `schedule_base` is the count when the current round began (0, or when it was replayed), so a
 * replay gets the whole retry schedule again. While `pending`, `next_attempt_at` is when the next
 * attempt is due (the sweeper schedules again one QStash lost); null once it ends.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: text('id')
      .primaryKey()
      .$defaultFn(() => newId('delivery')),
    orgId: text('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    endpointId: text('subscription_id').notNull(),
    eventType: text('event_type').notNull(),
    eventId: text('event_id').notNull(),
    body: text('body').notNull(),
    status: webhookDeliveryStatus('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    scheduleBase: integer('schedule_base').notNull().default(0),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    nextAttemptAt: timestamptz('next_attempt_at'),
    qstashMessageId: text('qstash_message_id'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deliveredAt: timestamptz('delivered_at'),
  },
  (t) => [
    foreignKey({
      name: 'webhook_deliveries_subscription_fk',
      columns: [t.orgId, t.endpointId],
      foreignColumns: [webhookEndpoints.orgId, webhookEndpoints.id],
    }).onDelete('cascade'),
    unique('webhook_deliveries_org_id_key').on(t.orgId, t.id),
    // The jobs queue delivers at least once: one delivery per event per endpoint.
    uniqueIndex('webhook_deliveries_subscription_event_key').on(t.orgId, t.endpointId, t.eventId),
    index('webhook_deliveries_org_subscription_created_idx').on(
      t.orgId,
      t.endpointId,
      t.createdAt,
      t.id,
    ),
    // The sweeper looks across organisations for what is overdue.
    index('webhook_deliveries_status_next_attempt_idx')
      .on(t.status, t.nextAttemptAt)
      .where(sql`${t.nextAttemptAt} is not null`),
    check('webhook_deliveries_attempts', sql`${t.attempts} >= 0`),
    check(
      'webhook_deliveries_schedule_base',
      sql`${t.scheduleBase} >= 0 and ${t.scheduleBase} <= ${t.attempts}`,
    ),
    check(
      'webhook_deliveries_delivered_at',
      sql`(${t.status} = 'delivered') = (${t.deliveredAt} is not null)`,
    ),
  ],
);

export const webhookAttemptOutcome = pgEnum('webhook_attempt_outcome', [
  'delivered',
  'failed',
  'gone',
]);
export type WebhookAttemptOutcome = (typeof webhookAttemptOutcome.enumValues)[number];

/**
 * One attempt of a delivery: when, the endpoint's status code (null when no answer came: a
 * timeout, a refused connection, a refused destination), how long it took and the first 1 KB of
 * what it answered. Numbered from 1 per delivery, each number recorded once.
 */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    id: text('id')
      .primaryKey()
      .$defaultFn(() => newId('webhookAttempt')),
    orgId: text('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    deliveryId: text('delivery_id').notNull(),
    attempt: integer('attempt').notNull(),
    url: text('url').notNull(),
    outcome: webhookAttemptOutcome('outcome').notNull(),
    statusCode: integer('status_code'),
    latencyMs: integer('latency_ms').notNull(),
    responseBody: text('response_body'),
    error: text('error'),
    attemptedAt: timestamptz('attempted_at').notNull(),
  },
  (t) => [
    foreignKey({
      name: 'webhook_attempts_delivery_fk',
      columns: [t.orgId, t.deliveryId],
      foreignColumns: [webhookDeliveries.orgId, webhookDeliveries.id],
    }).onDelete('cascade'),
    uniqueIndex('webhook_attempts_delivery_attempt_key').on(t.orgId, t.deliveryId, t.attempt),
    check('webhook_attempts_attempt', sql`${t.attempt} >= 1`),
    check('webhook_attempts_latency', sql`${t.latencyMs} >= 0`),
  ],
);
