import { jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { newId } from '../../ids.ts';
import { timestamptz } from './columns.ts';
import { organizations } from './tenancy.ts';

/**
 * Engagement events (views, searches, clicks...), the input of popularity, trends and
 * recommendations. The table is range-partitioned by month on `occurred_at`, which drizzle-kit
 * cannot create, so this object is for typed queries only: drizzle.config.ts leaves this file
 * out, and migration 0001 (`events-partitioned`) creates the table, its indexes, a DEFAULT
 * partition and `ensure_event_partitions(months_ahead)`, which a cron job calls to add the
 * monthly partitions `events_YYYY_MM`. Indexes: (org_id, occurred_at), (org_id, content_id,
 * occurred_at), (org_id, type, occurred_at), and (migration 0011) a reader's own events:
 * (org_id, session_id | anonymous_id | user_id, occurred_at).
 *
 * Keep the columns here and in that migration in step (a test compares them).
 */
export const events = pgTable(
  'events',
  {
    /** Assigned by the producer, so a redelivered event conflicts instead of counting twice. */
    id: text('id')
      .notNull()
      .$defaultFn(() => newId('event')),
    occurredAt: timestamptz('occurred_at').notNull(),
    orgId: text('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    /** `content.viewed`, `search.performed`, `search.result_clicked`... */
    type: text('type').notNull(),
    userId: text('user_id'),
    /** A stable pseudonymous visitor id for signed-out readers. */
    anonymousId: text('anonymous_id'),
    sessionId: text('session_id'),
    /** Not a foreign key: events outlive purged content, and inserts must stay cheap. */
    contentId: text('content_id'),
    /** Ties searches to the clicks on their results (`qry_…`). */
    queryId: text('query_id'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    receivedAt: timestamptz('received_at').notNull().defaultNow(),
  },
  // A unique key on a partitioned table must include the partition key.
  (t) => [primaryKey({ columns: [t.id, t.occurredAt] })],
);
