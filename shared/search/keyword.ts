import { type SQL, sql } from 'drizzle-orm';
import type { ContentStatus } from '../db/schema/content.ts';

import { type Database, rowsOf } from './database.ts';

/** What a search may be narrowed to; every field is optional and they combine with AND. */
export type SearchFilters = {
  /** Items in any of these categories. */
  categories?: string[];
  /** Items carrying any of these tags. */
  tags?: string[];
  /** Items in any of these states; default `published`. */
  statuses?: ContentStatus[];
  /** First published at or after / before this time. */
  publishedFrom?: Date;
  publishedTo?: Date;
  /**
   * Items whose `metadata` has each of these top-level fields with exactly this value (typed:
   * `2024` is not `"2024"`), or with any of the values of an array.
   */
  metadata?: Record<string, MetadataFilterValue | MetadataFilterValue[]>;
};

export type MetadataFilterValue = string | number | boolean;

export type KeywordQuery = {
  orgId: string;
  text: string;
  /** Search only translations in this locale's language (`ar` covers `ar-EG`); else all. */
  locale?: string;
  filters?: SearchFilters;
  /** Candidates wanted, best first. */
  limit: number;
};

/** A matching translation of an item, with its text for snippets and re-ranking features. */
export type KeywordHit = {
  contentId: string;
  locale: string;
  /** `ts_rank_cd` folded into [0, 1): rank / (rank + 1). */
  score: number;
  title: string;
  summary: string | null;
  body: string;
  categoryId: string | null;
  tags: string[];
  publishedAt: Date | null;
  updatedAt: Date;
};

/**
 * `ts_rank_cd` weights for the D, C, B and A parts of the document: title (A) above summary (B)
 * above body (C), as the generated `search` column assigns them.
 */
export const RANK_WEIGHTS = [0.1, 0.2, 0.4, 1.0] as const;

/** The language of a translation's locale in SQL, as the `search` column's configuration uses it. */
const ROW_LANGUAGE = sql`split_part(lower(t.locale), '-', 1)`;

/**
 * Whether `text` uses web search syntax that changes its meaning: a quoted phrase or an
 * exclusion (`-word`). A bare `or` does not count: plain words are ORed anyway, and in a
 * natural-language query ("books or articles on indexing") it is an ordinary word.
 */
export function usesSearchSyntax(text: string): boolean {
  return /"|(?:^|\s)-\S/.test(text);
}

/**
 * `text` as a `tsquery` in configuration `config` (a constant expression, so it runs once). Plain
 * words are ORed (`plainto_tsquery`'s `&` turned into `|`): a long natural-language query then
 * finds documents that have most of its words, and `ts_rank_cd` ranks those with more of them,
 * closer together, higher; requiring every word would find almost nothing. A query written in
 * web search syntax (quotes, `-word`) means what it says (`websearch_to_tsquery`, which
 * never fails on syntax; its `or` is an operator there).
 */
export function parsed(config: 'english' | 'arabic' | 'simple', text: string): SQL {
  const regconfig = sql.raw(`'${config}'::regconfig`);
  return usesSearchSyntax(text)
    ? sql`websearch_to_tsquery(${regconfig}, ${text})`
    : sql`replace(plainto_tsquery(${regconfig}, ${text})::text, ' & ', ' | ')::tsquery`;
}

/**
 * Whether translation `t` matches `text`, parsed in the configuration its `search` column was
 * built with (English, Arabic, or simple for other languages), so that stems meet stems and an
 * exclusion (`-word`) excludes. Each arm is a constant query against the GIN index on `search`.
 */
export function tsMatch(text: string): SQL {
  return sql`((${ROW_LANGUAGE} = 'en' and t.search @@ ${parsed('english', text)})
    or (${ROW_LANGUAGE} = 'ar' and t.search @@ ${parsed('arabic', text)})
    or (${ROW_LANGUAGE} not in ('en', 'ar') and t.search @@ ${parsed('simple', text)}))`;
}

/** The query {@link tsMatch} used for translation `t`, for ranking it. */
export function tsQuery(text: string): SQL {
  return sql`(case ${ROW_LANGUAGE} when 'en' then ${parsed('english', text)}
    when 'ar' then ${parsed('arabic', text)} else ${parsed('simple', text)} end)`;
}

/** The language subtag of `locale`, lower-cased, for `locale = x or locale like 'x-%'`. */
function languageOf(locale: string): string {
  return locale.split('-', 1)[0]!.toLowerCase();
}

/** The WHERE conditions of a search over `content c` joined with `content_translations t`. */
export function searchConditions(query: Omit<KeywordQuery, 'limit' | 'text'>): SQL {
  const f = query.filters ?? {};
  const parts: SQL[] = [
    sql`t.org_id = ${query.orgId}`,
    sql`t.deleted_at is null`,
    sql`c.deleted_at is null`,
  ];
  const statuses = f.statuses && f.statuses.length > 0 ? f.statuses : ['published'];
  parts.push(
    sql`c.status in (${sql.join(
      statuses.map((s) => sql`${s}::content_status`),
      sql`, `,
    )})`,
  );
  if (query.locale) {
    const language = languageOf(query.locale);
    parts.push(sql`(lower(t.locale) = ${language} or lower(t.locale) like ${`${language}-%`})`);
  }
  if (f.categories && f.categories.length > 0) {
    parts.push(
      sql`c.category_id in (${sql.join(
        f.categories.map((c) => sql`${c}`),
        sql`, `,
      )})`,
    );
  }
  if (f.tags && f.tags.length > 0) {
    parts.push(sql`c.tags && ${`{${f.tags.map(arrayLiteral).join(',')}}`}::text[]`);
  }
  if (f.publishedFrom) parts.push(sql`c.published_at >= ${f.publishedFrom.toISOString()}`);
  if (f.publishedTo) parts.push(sql`c.published_at < ${f.publishedTo.toISOString()}`);
  for (const [field, value] of Object.entries(f.metadata ?? {})) {
    const anyOf = [value]
      .flat()
      .map((v) => sql`c.metadata @> ${JSON.stringify({ [field]: v })}::jsonb`);
    parts.push(anyOf.length > 0 ? sql`(${sql.join(anyOf, sql` or `)})` : sql`false`);
  }
  return sql.join(parts, sql` and `);
}

/** One element of a Postgres array literal, double-quoted with `"` and `\` escaped. */
function arrayLiteral(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

type HitRow = {
  content_id: string;
  locale: string;
  rank: number | string;
  title: string;
  summary: string | null;
  body: string;
  category_id: string | null;
  tags: string[];
  published_at: string | Date | null;
  updated_at: string | Date;
};

const asDate = (value: string | Date) => (value instanceof Date ? value : new Date(value));

/**
 * The organisation's translations matching `text`, best first by `ts_rank_cd` (cover density:
 * query terms close together score higher) with {@link RANK_WEIGHTS}, ties broken by the most
 * recently updated, then by id. Postgres's own parser and stemmers (the `english`, `arabic`
 * and `simple` configurations the `search` column was built with) do the analysis, so this is
 * the ranking of Postgres full-text search as it ships: the fallback when the vector index is
 * down, and the baseline the relevance benchmark compares with.
 */
export async function keywordSearch(db: Database, query: KeywordQuery): Promise<KeywordHit[]> {
  if (query.text.trim() === '') return [];
  const weights = `{${RANK_WEIGHTS.join(',')}}`;
  const result = await db.execute(sql`
    select t.content_id, t.locale,
           ts_rank_cd(${weights}::float4[], t.search, ${tsQuery(query.text)}) as rank,
           t.title, t.summary, t.body, c.category_id, c.tags, c.published_at, c.updated_at
    from content_translations t
    join content c on c.org_id = t.org_id and c.id = t.content_id
    where ${searchConditions(query)} and ${tsMatch(query.text)}
    order by rank desc, c.updated_at desc, t.content_id, t.locale
    limit ${query.limit}`);
  return (rowsOf(result) as HitRow[]).map((r) => {
    const rank = Number(r.rank);
    return {
      contentId: r.content_id,
      locale: r.locale,
      score: rank / (rank + 1),
      title: r.title,
      summary: r.summary,
      body: r.body,
      categoryId: r.category_id,
      tags: r.tags,
      publishedAt: r.published_at === null ? null : asDate(r.published_at),
      updatedAt: asDate(r.updated_at),
    };
  });
}
