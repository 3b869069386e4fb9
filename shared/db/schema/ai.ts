import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  date,
  foreignKey,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
} from 'drizzle-orm/pg-core';
import type { Enrichment } from '../../ai/schema.ts';
import { updatedAt } from './columns.ts';
import { content } from './content.ts';
import { organizations } from './tenancy.ts';

/**
 * What an organisation's AI calls cost, per UTC day: one row per kind of call (`enrich`,
 * `ask`), model and engine, upserted once per call (`shared/enrichment/usage.ts`). `calls`
 * counts every call, cache hits included; `cache_hits` (exact) and `semantic_hits` say how many
 * were answered from a cache, so misses are `calls - cache_hits - semantic_hits`. Tokens and
 * cost are the models' (a cache hit adds none); cost is Sift's estimate from its price table,
 * not Cloudflare's bill. The daily budget (`settings.ai.daily_budget_usd`) is read against it.
 */
export const aiUsage = pgTable(
  'ai_usage',
  {
    orgId: text('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    day: date('day', { mode: 'string' }).notNull(),
    kind: text('kind').notNull(),
    model: text('model').notNull(),
    engine: text('engine').notNull(),
    calls: integer('calls').notNull().default(0),
    cacheHits: integer('cache_hits').notNull().default(0),
    semanticHits: integer('semantic_hits').notNull().default(0),
    inputTokens: bigint('input_tokens', { mode: 'number' }).notNull().default(0),
    outputTokens: bigint('output_tokens', { mode: 'number' }).notNull().default(0),
    /** US dollars, to a millionth (the price table's precision). */
    costUsd: numeric('cost_usd', { precision: 14, scale: 6 }).notNull().default('0'),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ name: 'ai_usage_pkey', columns: [t.orgId, t.day, t.kind, t.model, t.engine] }),
    check('ai_usage_kind', sql`${t.kind} in ('enrich', 'ask')`),
    check('ai_usage_engine', sql`${t.engine} in ('model', 'extractive')`),
    check(
      'ai_usage_counts',
      sql`${t.calls} >= 0 and ${t.cacheHits} >= 0 and ${t.semanticHits} >= 0 and ${t.cacheHits} + ${t.semanticHits} <= ${t.calls}`,
    ),
    check('ai_usage_cost', sql`${t.costUsd} >= 0`),
  ],
);

/**
 * The AI enrichment of a published content item (`settings.ai.enrich_content_on_publish`):
 * summaries, tags, category… of its default-locale text, written by the `content.enrich` job.
 * Kept apart from `content` so item reads and writes never carry it; `version` is the item's
 * version it was made from, and a write only ever replaces an older one.
 */
export const contentEnrichments = pgTable(
  'content_enrichments',
  {
    orgId: text('org_id').notNull(),
    contentId: text('content_id').notNull(),
    version: integer('version').notNull(),
    /** SHA-256 of the text enriched: a later version with the same text is not enriched again. */
    textSha256: text('text_sha256').notNull(),
    enrichment: jsonb('enrichment').$type<Enrichment>().notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ name: 'content_enrichments_pkey', columns: [t.orgId, t.contentId] }),
    // The item in the same organisation; gone with it.
    foreignKey({
      name: 'content_enrichments_content_fk',
      columns: [t.orgId, t.contentId],
      foreignColumns: [content.orgId, content.id],
    }).onDelete('cascade'),
  ],
);
