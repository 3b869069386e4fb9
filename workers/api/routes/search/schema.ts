import { z } from '@hono/zod-openapi';
import { CategoryId, Locale, Tag } from '../../../../shared/content/schema.ts';
import { contentStatus } from '../../../../shared/db/schema/content.ts';
import { SearchMode, SearchSort } from '../../../../shared/search/engine.ts';
import type { SearchFilters } from '../../../../shared/search/keyword.ts';
import { tokenize } from '../../../../shared/text/analyze.ts';
import {
  BooleanParam,
  FILTER_PARAMS,
  listParam,
  MAX_FILTER_VALUES,
  MAX_METADATA_FILTERS,
  MAX_METADATA_VALUE_CHARS,
  METADATA_FIELD,
  Status,
  TimeFrom,
  TimeTo,
  withMetadataParams,
} from '../../filters.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { ClientId } from '../events/schema.ts';

/** What both search routes do, for their OpenAPI descriptions. */
export const SEARCH_DESCRIPTION =
  "Searches the organisation's published content: `mode` keyword (BM25), semantic " +
  "(embeddings) or hybrid (both, fused by the organisation's method; default). The query is " +
  "normalised (Arabic and English), corrected against the organisation's own vocabulary " +
  '(`did_you_mean`) and expanded with its synonyms; results are re-ranked by relevance, ' +
  "popularity, freshness and the reader's category affinity, filtered by category, tags, " +
  'status, publication dates and metadata fields, sorted by relevance, newest or popular, and ' +
  'paged with `cursor` (the `next_cursor` of the page before). A query needs at least one word: ' +
  'punctuation or invisible characters alone are a 400. `explain=true` adds every score part. ' +
  'When the vector index is down the keyword results come from Postgres and `degraded` is ' +
  'true. Results are cached per organisation and index version ' +
  '(`Server-Timing: cache;desc="hit"`). Needs `search`.';

/** The longest query, in characters. */
export const MAX_QUERY_CHARS = 500;

const NO_WORDS =
  'must contain a word (letters or digits); once normalised (punctuation, spaces and ' +
  'invisible characters dropped) this has none';

const Query = z
  .string()
  .trim()
  .min(1, { error: 'must not be empty', abort: true })
  .max(MAX_QUERY_CHARS, { error: `must be at most ${MAX_QUERY_CHARS} characters`, abort: true })
  // A query with no word would match everything the semantic side finds near "nothing".
  .refine((q) => tokenize(q).length > 0, NO_WORDS)
  .openapi({
    description:
      `What to search for, as users type it: 1 to ${MAX_QUERY_CHARS} characters with at least ` +
      'one word (punctuation or invisible characters alone are refused).',
    example: 'solar energy',
  });

/** What a search returns: content items, documents (their best passages), or both. */
export const SearchType = z.enum(['content', 'document'], {
  error: 'must be content or document',
});
export type SearchType = z.infer<typeof SearchType>;

const TYPE_DESCRIPTION =
  'What to search (at most 2 values): `content` (the default, as before documents were ' +
  'searchable), `document` ' +
  '(ready documents the caller may see, one hit per document with its best passages; needs ' +
  '`documents:read` as well) or both. Content-only filters (`status`, `published_from`, ' +
  '`published_to`, metadata) leave documents out of a mixed search, and are a 400 with ' +
  '`type=document` alone.';

const MetadataValue = z.union([z.string().max(MAX_METADATA_VALUE_CHARS), z.number(), z.boolean()]);

const Filters = z.strictObject({
  category: z.array(CategoryId).min(1).max(MAX_FILTER_VALUES).optional(),
  tags: z.array(Tag).min(1).max(MAX_FILTER_VALUES).optional(),
  status: z.array(Status).min(1).max(contentStatus.enumValues.length).optional(),
  published_from: TimeFrom.optional(),
  published_to: TimeTo.optional(),
  metadata: z
    .record(
      z.string().regex(METADATA_FIELD, 'must be an identifier ([A-Za-z_][A-Za-z0-9_]*)'),
      z.union([MetadataValue, z.array(MetadataValue).min(1).max(MAX_FILTER_VALUES)]),
    )
    .refine((m) => Object.keys(m).length <= MAX_METADATA_FILTERS, {
      message: `must have at most ${MAX_METADATA_FILTERS} fields`,
    })
    .optional()
    .openapi({
      description:
        "Fields of the items' `metadata`, each with the value it must have (typed: `2024` " +
        'matches the number, `"2024"` the string) or an array of values, any of which will do.',
      example: { region: 'gulf', year: [2024, 2025] },
    }),
});

const Common = {
  locale: Locale.optional(),
  mode: SearchMode.default('hybrid'),
  sort: SearchSort.default('relevance'),
  limit: z.coerce
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(50, 'must be at most 50')
    .default(10),
  cursor: z
    .string()
    .max(512, 'must be a cursor from a previous page')
    .optional()
    .openapi({ description: "The previous page's `next_cursor`, for the page after it." }),
  targeting_key: ClientId(
    'Who is searching, for experiments (`/v1/experiments`): the reader a running search ' +
      "experiment assigns to a variant. Defaults to the signed-in user's id; an API key's " +
      'search without it is in no experiment.',
  ).optional(),
};

/** `POST /v1/search`: the query and filters as JSON (typed metadata values). */
export const SearchBody = z
  .strictObject({
    q: Query,
    ...Common,
    type: z
      .array(SearchType)
      .min(1, 'must name at least one type')
      .max(2, 'must name at most two types')
      .default(['content'])
      .openapi({ description: TYPE_DESCRIPTION, example: ['content', 'document'] }),
    filters: Filters.default({}),
    explain: z.boolean().default(false),
    facets: z.boolean().default(true),
  })
  .openapi('SearchRequest');

/**
 * `GET /v1/search`: the same as query parameters, in the content list's filter vocabulary
 * (`workers/api/filters.ts`): lists repeated or comma-separated, `meta.<field>=<value>` with
 * numbers and booleans matched typed or as text.
 */
export const SearchQuery = withMetadataParams({
  q: Query,
  ...Common,
  type: listParam(SearchType, 2)
    .default(['content'])
    .openapi({ description: TYPE_DESCRIPTION, example: 'content,document' }),
  ...FILTER_PARAMS,
  explain: BooleanParam.default(false),
  facets: BooleanParam.default(true),
});

/** The filters of either form (the GET parameters or the POST body's `filters`). */
export type FilterFields = {
  category?: string[] | undefined;
  tags?: string[] | undefined;
  status?: SearchFilters['statuses'] | undefined;
  published_from?: string | undefined;
  published_to?: string | undefined;
  metadata?: SearchFilters['metadata'] | undefined;
};

/** The request's filters as retrieval takes them. */
export function searchFilters(f: FilterFields): SearchFilters {
  return {
    ...(f.category ? { categories: f.category } : {}),
    ...(f.tags ? { tags: f.tags } : {}),
    ...(f.status ? { statuses: f.status } : {}),
    ...(f.published_from ? { publishedFrom: new Date(f.published_from) } : {}),
    ...(f.published_to ? { publishedTo: new Date(f.published_to) } : {}),
    ...(f.metadata ? { metadata: f.metadata } : {}),
  };
}

/** Everything a search needs, from either form. */
export type SearchInput = {
  q: string;
  /** Where the cursor came from, for the 400 of one that does not fit: `query` or `body`. */
  from: 'query' | 'body';
  locale: string | undefined;
  mode: SearchMode;
  sort: SearchSort;
  limit: number;
  cursor: string | undefined;
  filters: SearchFilters;
  /** What to search (de-duplicated). */
  types: SearchType[];
  /** The content-only filters the request named, by their field path (`status`, `filters.status`). */
  contentOnly: string[];
  explain: boolean;
  facets: boolean;
  /** The reader a running experiment assigns (`targeting_key`); else the signed-in user. */
  targetingKey: string | undefined;
};

/** The filters only content has, by name: a document has no status, dates or metadata. */
export function contentOnlyFilters(f: FilterFields, prefix = ''): string[] {
  return (['status', 'published_from', 'published_to', 'metadata'] as const)
    .filter((name) => {
      const value = f[name];
      return value !== undefined && !(typeof value === 'object' && Object.keys(value).length === 0);
    })
    .map((name) => `${prefix}${name}`);
}

export const ScoreSchema = z
  .object({
    keyword: z.number().nullable(),
    semantic: z.number().nullable(),
    fused: z.number(),
    popularity: z.number(),
    freshness: z.number(),
    personal: z.number(),
    final: z.number(),
    weights: z.object({
      relevance: z.number(),
      popularity: z.number(),
      freshness: z.number(),
      personal: z.number(),
    }),
  })
  .openapi('SearchScore', {
    description:
      'Why a hit ranks where it does: the keyword (BM25, or `ts_rank_cd` when degraded) and ' +
      'semantic (cosine) scores as retrieved, their fusion scaled to the best hit, popularity, ' +
      'freshness and personal affinity in [0, 1], the weights applied, and the final score ' +
      '(the weighted mean of fused, popularity, freshness and personal).',
  });

export const ContentHitSchema = z
  .object({
    type: z.literal('content'),
    id: z.string(),
    locale: z.string(),
    title: z.string().openapi({ description: 'HTML: the title with matches in `<mark>`.' }),
    snippet: z
      .string()
      .openapi({ description: 'HTML: the best passage of the summary or body, matches marked.' }),
    url: z.string(),
    category_id: z.string().nullable(),
    tags: z.array(z.string()),
    published_at: z.string().nullable(),
    score: z.number(),
    explain: ScoreSchema.optional(),
  })
  .openapi('SearchHit');

export const DocumentPassageSchema = z
  .object({
    chunk_index: z.number().int(),
    snippet: z.string().openapi({ description: 'HTML: the passage, matches marked.' }),
    page_start: z.number().int().nullable(),
    page_end: z.number().int().nullable(),
    heading_path: z.array(z.string()),
    score: z.number(),
  })
  .openapi('SearchDocumentPassage');

export const DocumentHitSchema = z
  .object({
    type: z.literal('document'),
    id: z.string().openapi({ description: 'The document id (as `document_id`).' }),
    document_id: z.string(),
    locale: z.string().openapi({ description: "The document's language (`und` when unknown)." }),
    title: z.string().openapi({ description: 'HTML: the title with matches in `<mark>`.' }),
    snippet: z.string().openapi({ description: 'HTML: the best passage, matches marked.' }),
    url: z.string(),
    category_id: z.string().nullable(),
    tags: z.array(z.string()),
    chunk_index: z.number().int().openapi({ description: 'The best passage.' }),
    page_start: z.number().int().nullable(),
    page_end: z.number().int().nullable(),
    heading_path: z.array(z.string()),
    passages: z
      .array(DocumentPassageSchema)
      .openapi({ description: 'The best passages of the document (up to 3), best first.' }),
    score: z.number(),
    explain: ScoreSchema.optional(),
  })
  .openapi('SearchDocumentHit');

export const SearchHitSchema = z.discriminatedUnion('type', [ContentHitSchema, DocumentHitSchema]);

const FacetCounts = z.array(z.object({ value: z.string(), count: z.number().int() }));

export const SearchResponseSchema = z
  .object({
    query_id: z.string().openapi({ example: 'qry_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
    query: z.object({
      text: z.string(),
      normalized: z.string(),
      language: z.enum(['ar', 'en']).nullable(),
      classification: z.enum(['navigational', 'informational', 'transactional']),
      did_you_mean: z.string().nullable(),
      corrections: z.array(z.object({ from: z.string(), to: z.string(), distance: z.number() })),
      synonyms: z.array(z.string()),
    }),
    mode: SearchMode,
    degraded: z.boolean(),
    degraded_reasons: z.array(z.string()),
    total: z.number().int().openapi({
      description: 'Items found (among the best candidates each retriever returns).',
    }),
    hits: z.array(SearchHitSchema),
    facets: z
      .object({ category: FacetCounts, tags: FacetCounts, locale: FacetCounts, type: FacetCounts })
      .nullable(),
    next_cursor: z.string().nullable(),
    experiment: z
      .object({
        key: z.string().openapi({ example: 'fresher-ranking' }),
        variant: z.string().openapi({ example: 'treatment' }),
      })
      .optional()
      .openapi({
        description:
          'The running search experiment and the variant whose settings ranked this search; ' +
          'absent when the searcher is in none.',
      }),
  })
  .openapi('SearchResponse');
export type SearchResponse = z.infer<typeof SearchResponseSchema>;

/** The answers of both search routes. */
export const SEARCH_RESPONSES = {
  200: {
    description: 'A page of hits.',
    content: { 'application/json': { schema: SearchResponseSchema } },
  },
  ...problemResponses(
    'VALIDATION_FAILED',
    'UNAUTHORIZED',
    'FORBIDDEN',
    'SERVICE_UNAVAILABLE',
    ...COMMON_PROBLEMS,
  ),
};
