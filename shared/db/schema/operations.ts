import { sql } from 'drizzle-orm';
import {
  check,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { newId } from '../../ids.ts';
import { actor, actorCheck, createdAt, timestamptz, updatedAt } from './columns.ts';
import { organizations, users } from './tenancy.ts';

/**
 * One vocabulary for every operation. `queued`: accepted and durable, not yet begun; `running`:
 * under way (a bulk request's items, a reindex's pages). It ends in one of
 * {@link FINAL_OPERATION_STATUSES} and never changes again: `applied` (everything it asked for
 * is done), `partially_applied` (work of several items: some applied, some did not; which and
 * why is reported with it) or `failed` (nothing applied; the problem is reported with it). A
 * single content write is `queued`, then `applied` or `failed`.
 */
export const operationStatus = pgEnum('operation_status', [
  'queued',
  'running',
  'applied',
  'partially_applied',
  'failed',
]);
export type OperationStatus = (typeof operationStatus.enumValues)[number];

/** The statuses an operation ends in. */
export const FINAL_OPERATION_STATUSES = [
  'applied',
  'partially_applied',
  'failed',
] as const satisfies readonly OperationStatus[];
export type FinalOperationStatus = (typeof FINAL_OPERATION_STATUSES)[number];

/** An RFC 9457 problem document, as stored in `operations.error`. */
export type ProblemDocument = {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code?: string;
  request_id?: string;
  [extension: string]: unknown;
};

/**
 * Asynchronous work the API accepted with `202` (a content write, a bulk action, a reindex):
 * clients poll it by id, the real-time channel streams its changes.
 */
export const operations = pgTable(
  'operations',
  {
    id: text('id')
      .primaryKey()
      .$defaultFn(() => newId('operation')),
    orgId: text('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    /** What is being done: `content.create`, `content.bulk_publish`, `search.reindex`... */
    kind: text('kind').notNull(),
    status: operationStatus('status').notNull().default('queued'),
    resourceType: text('resource_type'),
    resourceId: text('resource_id'),
    /** `{ done, total, ... }` for long-running work. */
    progress: jsonb('progress').$type<Record<string, unknown>>(),
    /** Why it failed, as a problem document. */
    error: jsonb('error').$type<ProblemDocument>(),
    requestId: text('request_id'),
    /** Who asked for it (an actor reference). */
    createdBy: actor('created_by'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    startedAt: timestamptz('started_at'),
    completedAt: timestamptz('completed_at'),
  },
  (t) => [
    index('operations_org_created_idx').on(t.orgId, t.createdAt, t.id),
    index('operations_org_resource_idx')
      .on(t.orgId, t.resourceType, t.resourceId, t.createdAt)
      .where(sql`${t.resourceId} is not null`),
    // Written as "not pending" rather than naming the final statuses, so that a status added to
    // the enum needs no new constraint (nor uses the new value in the migration adding it).
    check(
      'operations_completed_when_final',
      sql`(${t.status} in ('queued', 'running')) = (${t.completedAt} is null)`,
    ),
    check('operations_error_only_when_failed', sql`${t.error} is null or ${t.status} = 'failed'`),
    actorCheck('operations_created_by_actor', t.createdBy),
  ],
);

/**
 * The first answer to a POST carrying an `Idempotency-Key`, replayed for retries with the same
 * key. A row whose `response_status` is null is in flight: a concurrent retry gets `409`. A
 * retry whose request fingerprint differs gets `422`. A cron job deletes expired rows.
 */
export const idempotencyRecords = pgTable(
  'idempotency_records',
  {
    orgId: text('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    /** SHA-256 (hex) of method, path and body: the same key with another request is an error. */
    requestFingerprint: text('request_fingerprint').notNull(),
    responseStatus: integer('response_status'),
    responseHeaders: jsonb('response_headers').$type<Record<string, string>>(),
    /** The body as sent, byte for byte (text, not jsonb, which would reorder keys). */
    responseBody: text('response_body'),
    createdAt: createdAt(),
    expiresAt: timestamptz('expires_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.key] }),
    // The pruning cron deletes across organisations by expiry.
    index('idempotency_records_expires_idx').on(t.expiresAt),
    check('idempotency_records_key_length', sql`char_length(${t.key}) between 1 and 255`),
    check('idempotency_records_expiry_after_creation', sql`${t.expiresAt} > ${t.createdAt}`),
  ],
);

/**
 * Queue messages that can never succeed (a permanent failure, or retries exhausted), recorded
 * by the dead-letter consumers so an admin can inspect and replay them: nothing acknowledged
 * with `202` is lost silently. Platform-level (a message may concern any organisation; its body
 * says which), so no org_id. Recording is idempotent per (queue, message id).
 */
export const deadLetters = pgTable(
  'dead_letters',
  {
    id: text('id')
      .primaryKey()
      .$defaultFn(() => newId('deadLetter')),
    /** The queue the message failed on (`sift-writes`), not its dead-letter queue. */
    queue: text('queue').notNull(),
    messageId: text('message_id').notNull(),
    /** The message body, when `jsonb` can hold it. */
    body: jsonb('body').$type<unknown>(),
    /**
     * The message body as JSON text when `jsonb` cannot hold it (a string or key with U+0000 or
     * an unpaired surrogate, which `JSON.stringify` writes as `\u` escapes): any message can be
     * recorded, and `JSON.parse` gives it back exactly. Null otherwise.
     */
    bodyText: text('body_text'),
    reason: text('reason').notNull(),
    attempts: integer('attempts').notNull().default(0),
    failedAt: timestamptz('failed_at').notNull(),
    createdAt: createdAt(),
    /** Set when an admin re-sent the message to its queue. */
    replayedAt: timestamptz('replayed_at'),
    replayedBy: text('replayed_by').references(() => users.id, { onDelete: 'set null' }),
  },
  (t) => [
    uniqueIndex('dead_letters_queue_message_key').on(t.queue, t.messageId),
    check('dead_letters_one_body', sql`${t.body} is null or ${t.bodyText} is null`),
    // The admin's list: what still needs attention, newest first.
    index('dead_letters_open_failed_idx')
      .on(t.queue, t.failedAt)
      .where(sql`${t.replayedAt} is null`),
  ],
);
