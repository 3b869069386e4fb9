import { QueryMode, WeightingStrategy } from '@upstash/vector';
import type { ContentStatus } from '../db/schema/content.ts';
import type { Services } from '../services.ts';
import type { SearchFilters } from './keyword.ts';
import type { SearchMetadata } from './records.ts';
import { sparseQueryVector } from './sparse.ts';

/** Which half of the hybrid index a query runs in. */
export type VectorSide = 'sparse' | 'dense';

export type VectorQuery = {
  orgId: string;
  /** The namespace to search: the organisation's active one (`indexNamespaces`). */
  namespace?: string;
  text: string;
  side: VectorSide;
  locale?: string;
  filters?: SearchFilters;
  topK: number;
};

/** A translation the index returned, with its score on that side. */
export type VectorHit = {
  contentId: string;
  locale: string;
  score: number;
  metadata: SearchMetadata;
};

/** Upstash caps `topK` at 1,000. */
export const MAX_TOP_K = 1_000;

/** A filter string literal: single-quoted, with backslashes and quotes escaped. */
export const filterString = (value: string) =>
  `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

/** A literal of a metadata field's value: quoted strings, bare numbers and booleans. */
const literal = (value: string | number | boolean) =>
  typeof value === 'string' ? filterString(value) : String(value);

/**
 * {@link SearchFilters} in Upstash Vector's filter language, over {@link SearchMetadata}. The
 * index holds published items only, so a status filter that leaves out `published` matches
 * nothing (`HAS FIELD` on a field no entry has). Metadata field names must be identifiers
 * (`[A-Za-z_][A-Za-z0-9_]*`); the API refuses others before this point.
 */
export function vectorFilter(filters: SearchFilters = {}, locale?: string): string {
  const parts: string[] = [];
  const statuses: ContentStatus[] = filters.statuses?.length ? filters.statuses : ['published'];
  if (!statuses.includes('published')) parts.push('HAS FIELD nothing_is_unpublished');
  if (locale) {
    const language = locale.split('-', 1)[0]!.toLowerCase();
    parts.push(
      `(locale = ${filterString(language)} OR locale GLOB ${filterString(`${language}-*`)})`,
    );
  }
  if (filters.categories?.length) {
    parts.push(`category_id IN (${filters.categories.map(filterString).join(', ')})`);
  }
  if (filters.tags?.length) {
    parts.push(`(${filters.tags.map((t) => `tags CONTAINS ${filterString(t)}`).join(' OR ')})`);
  }
  const seconds = (d: Date) => Math.floor(d.getTime() / 1_000);
  if (filters.publishedFrom) parts.push(`published_at >= ${seconds(filters.publishedFrom)}`);
  if (filters.publishedTo) parts.push(`published_at < ${seconds(filters.publishedTo)}`);
  for (const [field, value] of Object.entries(filters.metadata ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(field)) {
      throw new Error(`metadata filter field ${JSON.stringify(field)} is not an identifier`);
    }
    const anyOf = [value].flat().map((v) => `meta.${field} = ${literal(v)}`);
    if (anyOf.length === 0) parts.push('HAS FIELD nothing_matches_no_value');
    else parts.push(anyOf.length === 1 ? anyOf[0]! : `(${anyOf.join(' OR ')})`);
  }
  return parts.join(' AND ');
}

/** Query embeddings of recent searches, per isolate: a search's pages and variants share one. */
const queryVectors = new Map<string, number[]>();
const QUERY_VECTOR_CACHE = 512;

/**
 * The dense vector of a query, through the `ai` circuit breaker; remembered for the isolate's
 * next {@link QUERY_VECTOR_CACHE} distinct queries, since a model gives the same text the same
 * vector.
 */
export async function queryVector(
  services: Pick<Services, 'embeddings' | 'guard'>,
  text: string,
): Promise<number[]> {
  const key = `${services.embeddings.model}\u0000${text}`;
  const known = queryVectors.get(key);
  if (known) return known;
  const [vector] = await services.guard('ai', () => services.embeddings.embed([text], 'query'));
  const values = Array.from(vector!);
  if (queryVectors.size >= QUERY_VECTOR_CACHE) {
    queryVectors.delete(queryVectors.keys().next().value as string);
  }
  queryVectors.set(key, values);
  return values;
}

/**
 * The best `topK` translations of the organisation's namespace for `text` on one side of the
 * hybrid index: `sparse` is BM25 (the query's terms from Sift's text analysis, `sparse.ts`, with
 * IDF weighting from the namespace's document frequencies), `dense` the embedding model's cosine
 * similarity (the query embedded through the `ai` breaker). The index runs through the `vector`
 * circuit breaker; errors are thrown (the caller falls back).
 */
export async function vectorSearch(
  services: Pick<Services, 'vector' | 'embeddings' | 'guard'>,
  query: VectorQuery,
): Promise<VectorHit[]> {
  if (query.text.trim() === '') return [];
  const namespace = services.vector.namespace(query.namespace ?? query.orgId);
  const filter = vectorFilter(query.filters, query.locale);
  const sparseVector = query.side === 'sparse' ? sparseQueryVector(query.text) : undefined;
  // Only stop words: no term to match.
  if (sparseVector?.indices.length === 0) return [];
  const side = sparseVector
    ? { sparseVector, queryMode: QueryMode.SPARSE, weightingStrategy: WeightingStrategy.IDF }
    : { vector: await queryVector(services, query.text), queryMode: QueryMode.DENSE };
  const results = await services.guard('vector', () =>
    namespace.query<SearchMetadata>({
      ...side,
      topK: Math.min(query.topK, MAX_TOP_K),
      includeMetadata: true,
      ...(filter ? { filter } : {}),
    }),
  );
  return results.flatMap((r) =>
    r.metadata
      ? [
          {
            contentId: r.metadata.content_id,
            locale: r.metadata.locale,
            score: r.score,
            metadata: r.metadata,
          },
        ]
      : [],
  );
}
