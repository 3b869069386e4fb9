import { sql } from 'drizzle-orm';
import {
  check,
  doublePrecision,
  foreignKey,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  real,
  text,
  unique,
} from 'drizzle-orm/pg-core';
import { newId } from '../../ids.ts';
import { createdAt, timestamptz, updatedAt } from './columns.ts';
import { content } from './content.ts';
import { organizations } from './tenancy.ts';

/**
 * Topics and trend intelligence (`shared/trends/`): recent published items clustered by their
 * dense vectors into topics with stable ids, each topic's hourly series and its latest trend
 * score and lifecycle, computed by the `compute-trends` cron job. Every row carries `org_id`,
 * and composite foreign keys keep a topic's rows in its organisation.
 */

/** `active` topics take new items; `merged` ones went into `merged_into`; `retired` went quiet. */
export const topicStatus = pgEnum('topic_status', ['active', 'merged', 'retired']);
export type TopicStatus = (typeof topicStatus.enumValues)[number];

export const trendLifecycle = pgEnum('trend_lifecycle', [
  'emerging',
  'rising',
  'peaking',
  'declining',
]);

/**
 * What happened to a topic (its lineage): `created`; `grew` (new members); `merged` (into the
 * `related` topic) and `absorbed` (took the `related` topic in); `split` (gave members to the new
 * `related` topic) and `split_from` (was made from the `related` topic's members); `retired`.
 */
export const topicChangeKind = pgEnum('topic_change_kind', [
  'created',
  'grew',
  'merged',
  'absorbed',
  'split',
  'split_from',
  'retired',
]);

export type TopicKeywordsColumn = { ar: string[]; en: string[] };

export const topics = pgTable(
  'topics',
  {
    id: text('id')
      .primaryKey()
      .$defaultFn(() => newId('topic')),
    orgId: text('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    /** The title of its most representative item (the member nearest the centroid). */
    label: text('label').notNull().default(''),
    keywords: jsonb('keywords').$type<TopicKeywordsColumn>().notNull().default({ ar: [], en: [] }),
    /** The normalised mean of its members' vectors. */
    centroid: real('centroid').array().notNull(),
    size: integer('size').notNull().default(0),
    status: topicStatus('status').notNull().default('active'),
    mergedInto: text('merged_into'),
    /** The category most of its members are in (null when none has one). */
    categoryId: text('category_id'),
    /** The locales its members have translations in, sorted. */
    locales: text('locales').array().notNull().default(sql`'{}'::text[]`),
    firstSeen: timestamptz('first_seen').notNull(),
    /** When its newest member was published. */
    lastSeen: timestamptz('last_seen').notNull(),
    /** The z-score of its latest hour, its lifecycle, and when they were computed. */
    score: doublePrecision('score').notNull().default(0),
    lifecycle: trendLifecycle('lifecycle'),
    scoredAt: timestamptz('scored_at'),
    /** The start of its last significant hour. */
    lastSignificantAt: timestamptz('last_significant_at'),
    /** When it first became significant: `trend.detected` was sent then, once. */
    detectedAt: timestamptz('detected_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique('topics_org_id_key').on(t.orgId, t.id),
    index('topics_org_status_idx').on(t.orgId, t.status),
    // The list: topics with a lifecycle, best score first.
    index('topics_org_trending_idx')
      .on(t.orgId, t.score, t.id)
      .where(sql`${t.lifecycle} is not null`),
    foreignKey({
      name: 'topics_merged_into_fk',
      columns: [t.orgId, t.mergedInto],
      foreignColumns: [t.orgId, t.id],
    }),
    check(
      'topics_merged_has_target',
      sql`(${t.status} = 'merged') = (${t.mergedInto} is not null)`,
    ),
    check('topics_keywords_object', sql`jsonb_typeof(${t.keywords}) = 'object'`),
  ],
);

/** Which topic an item is in (one at most), how close to its centroid, and its vector. */
export const topicMembers = pgTable(
  'topic_members',
  {
    orgId: text('org_id').notNull(),
    contentId: text('content_id').notNull(),
    topicId: text('topic_id').notNull(),
    /** Cosine to the topic's centroid when last computed. */
    similarity: real('similarity').notNull(),
    /** The item's dense vector (the mean of its translations'), so re-clustering reads no index. */
    vector: real('vector').array().notNull(),
    /** When the item was published: its topic's "new items" count it in that hour. */
    publishedAt: timestamptz('published_at').notNull(),
    joinedAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.contentId] }),
    index('topic_members_topic_idx').on(t.orgId, t.topicId, t.similarity),
    foreignKey({
      name: 'topic_members_topic_fk',
      columns: [t.orgId, t.topicId],
      foreignColumns: [topics.orgId, topics.id],
    }).onDelete('cascade'),
    foreignKey({
      name: 'topic_members_content_fk',
      columns: [t.orgId, t.contentId],
      foreignColumns: [content.orgId, content.id],
    }).onDelete('cascade'),
  ],
);

/** A topic's lineage: what happened to it and when. */
export const topicChanges = pgTable(
  'topic_changes',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    orgId: text('org_id').notNull(),
    topicId: text('topic_id').notNull(),
    kind: topicChangeKind('kind').notNull(),
    /** The other topic of a merge or split. Not a foreign key: lineage outlives topics. */
    related: text('related'),
    /** Its members after the change. */
    size: integer('size').notNull(),
    at: timestamptz('at').notNull(),
  },
  (t) => [
    index('topic_changes_topic_idx').on(t.orgId, t.topicId, t.id),
    foreignKey({
      name: 'topic_changes_topic_fk',
      columns: [t.orgId, t.topicId],
      foreignColumns: [topics.orgId, topics.id],
    }).onDelete('cascade'),
  ],
);

/** A topic's hourly series: items published and weighted engagement in each hour. */
export const topicSeries = pgTable(
  'topic_series',
  {
    orgId: text('org_id').notNull(),
    topicId: text('topic_id').notNull(),
    hour: timestamptz('hour').notNull(),
    newItems: integer('new_items').notNull().default(0),
    engagement: doublePrecision('engagement').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.topicId, t.hour] }),
    foreignKey({
      name: 'topic_series_topic_fk',
      columns: [t.orgId, t.topicId],
      foreignColumns: [topics.orgId, topics.id],
    }).onDelete('cascade'),
  ],
);
