import { QueryMode, WeightingStrategy } from '@upstash/vector';
import { type SQL, sql } from 'drizzle-orm';
import { type Principal, principalId } from '../auth/permissions.ts';
import { documentChunks, documents } from '../db/schema/documents.ts';
import { rowsOf } from '../search/database.ts';
import type { DegradedReason, SearchMode } from '../search/engine.ts';
import { parsed, RANK_WEIGHTS } from '../search/keyword.ts';
import { type Candidate, cosineOf, floorSemantic, RRF_K } from '../search/ranking.ts';
import { rankingSettings } from '../search/settings.ts';
import { sparseQueryVector } from '../search/sparse.ts';
import { filterString, MAX_TOP_K, queryVector } from '../search/vector-search.ts';
import type { Services } from '../services.ts';
import { seesPrivateDocuments, visibleDocuments } from './access.ts';
import { type ChunkMetadata, chunkVectorId, documentsNamespace } from './vectors.ts';

/** What a passage search looks for, and where (every filter optional; they combine with AND). */
export type PassageQuery = {
  orgId: string;
  /** Whose search it is: private documents are found only for those who may see them. */
  principal: Principal;
  /** The text the vector index is asked with (dense and sparse). */
  text: string;
  /** The text for Postgres full-text search, in `websearch_to_tsquery` syntax; else `text`. */
  keywordText?: string;
  mode: SearchMode;
  /** Documents in this locale's language (`ar` covers `ar-EG`). */
  locale?: string;
  categories?: readonly string[];
  tags?: readonly string[];
  /** Only these documents. */
  documentIds?: readonly string[];
  /** Candidates each retriever returns. Default {@link PASSAGE_CANDIDATES}. */
  candidates?: number;
};

/** Candidates each retriever returns by default. */
export const PASSAGE_CANDIDATES = 100;

/** A chunk found, as Postgres has it now, with what each retriever scored it. */
export type FoundPassage = {
  documentId: string;
  chunkIndex: number;
  title: string;
  language: string;
  text: string;
  pageStart: number | null;
  pageEnd: number | null;
  headingPath: string[];
  charStart: number;
  charEnd: number;
  categoryId: string | null;
  tags: string[];
  visibility: 'private' | 'organization';
  /** Postgres full-text rank folded into [0, 1) (rank / (rank + 1)); null when it did not match. */
  keyword: number | null;
  /** The sparse (BM25) side's score; null when that side did not find it. */
  sparse: number | null;
  /** Cosine similarity of the dense side; null when that side did not find it (or it was floored). */
  similarity: number | null;
  /** Reciprocal rank fusion of the sides that found it, scaled so the best passage has 1. */
  fused: number;
};

export type FoundPassages = { passages: FoundPassage[]; degraded: DegradedReason[] };

type ChunkRow = {
  document_id: string;
  chunk_index: number;
  text: string;
  language: string;
  page_start: number | null;
  page_end: number | null;
  heading_path: string[];
  char_start: number;
  char_end: number;
  title: string;
  category_id: string | null;
  tags: string[];
  visibility: 'private' | 'organization';
  rank?: number | string;
};

const passageKey = (documentId: string, chunkIndex: number) =>
  chunkVectorId(documentId, chunkIndex);

const languageOf = (locale: string) => locale.split('-', 1)[0]!.toLowerCase();

/**
 * The conditions every passage must meet in Postgres, the authority: its document exists in the
 * organisation, is `ready`, is visible to the principal (`visibleDocuments`), and passes the
 * filters.
 */
function passageConditions(query: PassageQuery): SQL {
  const parts: SQL[] = [
    sql`${documentChunks.orgId} = ${query.orgId}`,
    sql`${documents.status} = 'ready'`,
  ];
  const visible = visibleDocuments(query.principal);
  if (visible) parts.push(visible);
  if (query.locale) parts.push(sql`${documentChunks.language} = ${languageOf(query.locale)}`);
  if (query.categories?.length) {
    parts.push(
      sql`${documents.categoryId} in (${sql.join(
        query.categories.map((c) => sql`${c}`),
        sql`, `,
      )})`,
    );
  }
  if (query.tags?.length) {
    parts.push(sql`${documents.tags} && ${`{${query.tags.map(arrayLiteral).join(',')}}`}::text[]`);
  }
  if (query.documentIds?.length) {
    parts.push(
      sql`${documentChunks.documentId} in (${sql.join(
        query.documentIds.map((id) => sql`${id}`),
        sql`, `,
      )})`,
    );
  }
  return sql.join(parts, sql` and `);
}

function arrayLiteral(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

const SELECTED = sql`${documentChunks.documentId} as document_id, ${documentChunks.chunkIndex} as chunk_index,
  ${documentChunks.text} as text, ${documentChunks.language} as language,
  ${documentChunks.pageStart} as page_start, ${documentChunks.pageEnd} as page_end,
  ${documentChunks.headingPath} as heading_path, ${documentChunks.charStart} as char_start,
  ${documentChunks.charEnd} as char_end, ${documents.title} as title,
  ${documents.categoryId} as category_id, ${documents.tags} as tags,
  ${documents.visibility} as visibility`;

const FROM = sql`${documentChunks} join ${documents}
  on ${documents.orgId} = ${documentChunks.orgId} and ${documents.id} = ${documentChunks.documentId}`;

/** The chunk's text-search query, in the configuration its `search` column was built with. */
function chunkQuery(text: string): SQL {
  return sql`(case ${documentChunks.language} when 'en' then ${parsed('english', text)}
    when 'ar' then ${parsed('arabic', text)} else ${parsed('simple', text)} end)`;
}

function chunkMatch(text: string): SQL {
  return sql`((${documentChunks.language} = 'en' and ${documentChunks.search} @@ ${parsed('english', text)})
    or (${documentChunks.language} = 'ar' and ${documentChunks.search} @@ ${parsed('arabic', text)})
    or (${documentChunks.language} not in ('en', 'ar') and ${documentChunks.search} @@ ${parsed('simple', text)}))`;
}

/** The keyword side: Postgres full-text search over `document_chunks.search`, best first. */
async function keywordPassages(
  services: Pick<Services, 'db'>,
  query: PassageQuery,
  limit: number,
): Promise<ChunkRow[]> {
  const text = query.keywordText ?? query.text;
  if (text.trim() === '') return [];
  const weights = `{${RANK_WEIGHTS.join(',')}}`;
  const result = await services.db.execute(sql`
    select ${SELECTED}, ts_rank_cd(${weights}::float4[], ${documentChunks.search}, ${chunkQuery(text)}) as rank
    from ${FROM}
    where ${passageConditions(query)} and ${chunkMatch(text)}
    order by rank desc, ${documentChunks.documentId}, ${documentChunks.chunkIndex}
    limit ${limit}`);
  return rowsOf(result) as ChunkRow[];
}

/** The chunks named by `keys` that Postgres still holds, ready and visible, passing the filters. */
async function verifiedPassages(
  services: Pick<Services, 'db'>,
  query: PassageQuery,
  keys: readonly { documentId: string; chunkIndex: number }[],
): Promise<ChunkRow[]> {
  if (keys.length === 0) return [];
  const result = await services.db.execute(sql`
    select ${SELECTED}
    from ${FROM}
    where ${passageConditions(query)}
      and (${documentChunks.documentId}, ${documentChunks.chunkIndex}) in (${sql.join(
        keys.map((k) => sql`(${k.documentId}, ${k.chunkIndex}::integer)`),
        sql`, `,
      )})`);
  return rowsOf(result) as ChunkRow[];
}

/**
 * The same scope in Upstash Vector's filter language over {@link ChunkMetadata}: it spares the
 * index's `topK` for what Postgres will accept, but decides nothing (Postgres does).
 */
export function chunkFilter(query: PassageQuery): string {
  const parts: string[] = [];
  if (!seesPrivateDocuments(query.principal)) {
    parts.push(
      `(visibility = 'organization' OR uploaded_by = ${filterString(principalId(query.principal))})`,
    );
  }
  if (query.locale) parts.push(`language = ${filterString(languageOf(query.locale))}`);
  if (query.categories?.length) {
    parts.push(`category_id IN (${query.categories.map(filterString).join(', ')})`);
  }
  if (query.tags?.length) {
    parts.push(`(${query.tags.map((t) => `tags CONTAINS ${filterString(t)}`).join(' OR ')})`);
  }
  if (query.documentIds?.length) {
    parts.push(`document_id IN (${query.documentIds.map(filterString).join(', ')})`);
  }
  return parts.join(' AND ');
}

type VectorCandidate = { documentId: string; chunkIndex: number; score: number };

async function vectorPassages(
  services: Pick<Services, 'vector' | 'embeddings' | 'guard'>,
  query: PassageQuery,
  side: 'sparse' | 'dense',
  topK: number,
): Promise<VectorCandidate[]> {
  if (query.text.trim() === '') return [];
  const sparseVector = side === 'sparse' ? sparseQueryVector(query.text) : undefined;
  if (sparseVector?.indices.length === 0) return [];
  const filter = chunkFilter(query);
  const namespace = services.vector.namespace(documentsNamespace(query.orgId));
  const results = await services.guard('vector', async () =>
    namespace.query<ChunkMetadata>({
      ...(sparseVector
        ? { sparseVector, queryMode: QueryMode.SPARSE, weightingStrategy: WeightingStrategy.IDF }
        : { vector: await queryVector(services, query.text), queryMode: QueryMode.DENSE }),
      topK: Math.min(topK, MAX_TOP_K),
      includeMetadata: true,
      ...(filter ? { filter } : {}),
    }),
  );
  return results.flatMap((r) =>
    r.metadata
      ? [{ documentId: r.metadata.document_id, chunkIndex: r.metadata.chunk_index, score: r.score }]
      : [],
  );
}

/**
 * The passages of the organisation's documents that answer `query`, best first:
 *
 * - three retrievers: Postgres full-text search over `document_chunks.search` (each chunk in its
 *   language's configuration, as content is), and the sparse (BM25) and dense sides of the
 *   organisation's documents namespace; `keyword` mode asks the first two, `semantic` the dense
 *   side, `hybrid` all three;
 * - the dense side keeps what clears the organisation's semantic floors (`floorSemantic`, those of
 *   content search), corroborated in hybrid by the keyword sides;
 * - fused by reciprocal rank (k = 60) and scaled so the best passage has 1;
 * - **Postgres decides**: every chunk the index returned is looked up in `document_chunks` joined
 *   with `documents`, and dropped unless its document exists, is `ready`, is visible to the
 *   principal and passes the filters; the text comes from Postgres, never from the index.
 *
 * When the vector index fails the Postgres side answers alone (`vector_unavailable`). Throws
 * when Postgres fails: nothing can be returned that it has not vouched for.
 */
export async function searchPassages(
  services: Pick<Services, 'db' | 'vector' | 'embeddings' | 'guard' | 'logger'>,
  query: PassageQuery,
): Promise<FoundPassages> {
  const candidates = query.candidates ?? PASSAGE_CANDIDATES;
  const sides: ('sparse' | 'dense')[] =
    query.mode === 'keyword'
      ? ['sparse']
      : query.mode === 'semantic'
        ? ['dense']
        : ['sparse', 'dense'];
  const [settings, keywordRows, ...vectorResults] = await Promise.all([
    rankingSettings(services, query.orgId),
    query.mode === 'semantic'
      ? Promise.resolve([] as ChunkRow[])
      : services.guard('postgres', () => keywordPassages(services, query, candidates)),
    ...sides.map((side) =>
      vectorPassages(services, query, side, candidates).then(
        (hits) => ({ ok: true as const, hits }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
    ),
  ]);
  const degraded: DegradedReason[] = [];
  const lists: Record<'keyword' | 'sparse' | 'dense', Candidate[]> = {
    keyword: keywordRows.map((r) => {
      const rank = Number(r.rank ?? 0);
      return { key: passageKey(r.document_id, r.chunk_index), score: rank / (rank + 1) };
    }),
    sparse: [],
    dense: [],
  };
  const failed = vectorResults.filter((r) => !r.ok).length;
  vectorResults.forEach((result, i) => {
    if (!result.ok) {
      services.logger.warn('document retrieval failed', { side: sides[i], error: result.error });
      return;
    }
    lists[sides[i]!] = result.hits.map((h) => ({
      key: passageKey(h.documentId, h.chunkIndex),
      score: h.score,
    }));
  });
  if (failed === sides.length) degraded.push('vector_unavailable');
  else if (failed > 0) {
    degraded.push(vectorResults[0]!.ok ? 'semantic_side_unavailable' : 'keyword_side_unavailable');
  }
  if (lists.dense.length > 0) {
    const keywordSide = [...lists.keyword, ...lists.sparse];
    lists.dense = floorSemantic(
      lists.dense,
      settings,
      query.mode === 'hybrid' && failed === 0 ? keywordSide : undefined,
    );
  }

  // Reciprocal rank fusion of the three lists.
  const fusedByKey = new Map<string, number>();
  for (const list of [lists.keyword, lists.sparse, lists.dense]) {
    list.forEach((c, rank) => {
      fusedByKey.set(c.key, (fusedByKey.get(c.key) ?? 0) + 1 / (RRF_K + rank + 1));
    });
  }
  const scoreOf = (list: Candidate[]) => new Map(list.map((c) => [c.key, c.score]));
  const keywordScores = scoreOf(lists.keyword);
  const sparseScores = scoreOf(lists.sparse);
  const denseScores = scoreOf(lists.dense);

  // Postgres vouches for every passage; those its keyword side returned already passed.
  const rows = new Map(keywordRows.map((r) => [passageKey(r.document_id, r.chunk_index), r]));
  const unverified = [...fusedByKey.keys()].filter((k) => !rows.has(k));
  if (unverified.length > 0) {
    const keys = unverified.map((k) => {
      const at = k.lastIndexOf(':');
      return { documentId: k.slice(0, at), chunkIndex: Number(k.slice(at + 1)) };
    });
    const found = await services.guard('postgres', () => verifiedPassages(services, query, keys));
    for (const r of found) rows.set(passageKey(r.document_id, r.chunk_index), r);
  }

  const kept = [...fusedByKey].filter(([k]) => rows.has(k));
  const best = Math.max(0, ...kept.map(([, f]) => f));
  const passages = kept.map(([k, f]): FoundPassage => {
    const r = rows.get(k)!;
    const dense = denseScores.get(k);
    return {
      documentId: r.document_id,
      chunkIndex: Number(r.chunk_index),
      title: r.title,
      language: r.language,
      text: r.text,
      pageStart: r.page_start === null ? null : Number(r.page_start),
      pageEnd: r.page_end === null ? null : Number(r.page_end),
      headingPath: r.heading_path ?? [],
      charStart: Number(r.char_start),
      charEnd: Number(r.char_end),
      categoryId: r.category_id,
      tags: r.tags ?? [],
      visibility: r.visibility,
      keyword: keywordScores.get(k) ?? null,
      sparse: sparseScores.get(k) ?? null,
      similarity: dense === undefined ? null : cosineOf(dense),
      fused: best > 0 ? f / best : 0,
    };
  });
  passages.sort(
    (a, b) =>
      b.fused - a.fused ||
      (a.documentId < b.documentId ? -1 : a.documentId > b.documentId ? 1 : 0) ||
      a.chunkIndex - b.chunkIndex,
  );
  return { passages, degraded };
}

/** A document found, with its best passages (best first). */
export type FoundDocument = { documentId: string; fused: number; passages: FoundPassage[] };

/**
 * Passages grouped by document, each document once, ranked by its best passage, with at most
 * `perDocument` passages each (default 3).
 */
export function groupByDocument(
  passages: readonly FoundPassage[],
  perDocument = 3,
): FoundDocument[] {
  const byDocument = new Map<string, FoundDocument>();
  for (const p of passages) {
    let found = byDocument.get(p.documentId);
    if (!found) {
      found = { documentId: p.documentId, fused: p.fused, passages: [] };
      byDocument.set(p.documentId, found);
    }
    if (found.passages.length < perDocument) found.passages.push(p);
  }
  return [...byDocument.values()];
}
