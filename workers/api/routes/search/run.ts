import type { Context } from 'hono';
import { setMetric, wrapTime } from 'hono/timing';
import type { Principal } from '../../../../shared/auth/permissions.ts';
import { sha256Hex } from '../../../../shared/auth/refresh-tokens.ts';
import { CACHE_POLICIES, cacheStores, createCache } from '../../../../shared/cache/index.ts';
import {
  type FoundDocument,
  groupByDocument,
  searchPassages,
} from '../../../../shared/documents/search.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { Assignment } from '../../../../shared/experiments/assign.ts';
import { assignment } from '../../../../shared/experiments/definition.ts';
import { recordExposure } from '../../../../shared/experiments/exposure.ts';
import { isId, newId } from '../../../../shared/ids.ts';
import { recordSearch } from '../../../../shared/search/analytics.ts';
import {
  facets,
  type RankedItem,
  type Retrieved,
  rank,
  retrieve,
} from '../../../../shared/search/engine.ts';
import { categoryAffinity } from '../../../../shared/search/features.ts';
import { readIndexVersion } from '../../../../shared/search/index-version.ts';
import { indexNamespaces } from '../../../../shared/search/namespace.ts';
import {
  RankingSettings,
  retrievalSettings,
  type ScoreParts,
  scoreCandidate,
} from '../../../../shared/search/ranking.ts';
import { rankingSettings } from '../../../../shared/search/settings.ts';
import { highlight, highlightTerms, snippet } from '../../../../shared/search/snippet.ts';
import { understand } from '../../../../shared/search/understand.ts';
import type { Services } from '../../../../shared/services.ts';
import type { AppBindings } from '../../app.ts';
import { readContents } from '../../content-read.ts';
import type { SearchInput, SearchResponse, SearchType } from './schema.ts';

/** Seconds to wait before retrying a search that no retriever could answer. */
export const SEARCH_RETRY_AFTER_SECONDS = 5;

const CURSOR_RULE = 'must be a cursor from a previous page of the same search';

/** Where the next page starts, the search it belongs to, and that search's query id. */
type SearchCursor = { o: number; h: string; q: string };

function encodeSearchCursor(cursor: SearchCursor): string {
  return btoa(JSON.stringify(cursor)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** The cursor, when it was issued for this search (`fingerprint`); else a 400 naming `path`. */
function decodeSearchCursor(value: string, fingerprint: string, path: string): SearchCursor {
  try {
    const raw = JSON.parse(atob(value.replaceAll('-', '+').replaceAll('_', '/'))) as SearchCursor;
    if (
      raw.h === fingerprint &&
      Number.isSafeInteger(raw.o) &&
      raw.o > 0 &&
      typeof raw.q === 'string' &&
      isId('query', raw.q)
    ) {
      return raw;
    }
  } catch {
    // Not one of ours: refused below.
  }
  throw new AppError({
    code: 'VALIDATION_FAILED',
    message: `${path}: ${CURSOR_RULE}`,
    errors: [{ path, message: CURSOR_RULE }],
  });
}

/** Whether any weight the organisation uses gives the personal part a say. */
const personalised = (settings: RankingSettings) =>
  settings.weights.personal > 0 ||
  Object.values(settings.category_weights).some((w) => w.personal > 0);

/**
 * The reader's category affinity, cached for an hour in memory and Redis (not KV: preferences
 * must not outlive a change by KV's minute). Empty for API keys, and when unknown.
 */
async function readerAffinity(
  services: Services,
  orgId: string,
  userId: string,
  now: Date,
): Promise<Map<string, number>> {
  const cache = createCache<{ userPreferences: Record<string, number> }>(
    cacheStores(services),
    { userPreferences: CACHE_POLICIES.userPreferences },
    { logger: services.logger, waitUntil: (p) => services.waitUntil(p) },
  );
  try {
    const { value } = await cache.userPreferences.swr(
      { orgId, id: `category-affinity:${userId}` },
      async () =>
        Object.fromEntries(
          await services.guard('postgres', () => categoryAffinity(services.db, orgId, userId, now)),
        ),
    );
    return new Map(Object.entries(value ?? {}));
  } catch (error) {
    services.logger.warn('reader affinity unavailable', { orgId, error });
    return new Map();
  }
}

/**
 * The texts of a page's hits, from the content read path (cache tiers, then one Postgres query
 * for the rest); items deleted since they were indexed are dropped. When nothing can be read,
 * the hits keep the titles the index holds, without snippets.
 */
async function hydrate(services: Services, orgId: string, page: RankedItem[]) {
  let read: Awaited<ReturnType<typeof readContents>> | undefined;
  try {
    read = await readContents(
      services,
      orgId,
      page.map((r) => r.contentId),
    );
  } catch (error) {
    services.logger.warn('search hits unreadable; answering with indexed titles', { error });
  }
  return page.flatMap((item) => {
    if (!read || read.unreadable.has(item.contentId)) return [{ item, translation: undefined }];
    const found = read.reads.get(item.contentId);
    return found ? [{ item, translation: found.snapshot.translations[item.locale] }] : [];
  });
}

/**
 * A search, from understanding the query to the page of hits:
 *
 * 1. understand the query (normalise, language, class, typos against the organisation's
 *    vocabulary, synonyms), read the ranking settings and the index version;
 * 2. retrieve (fused candidates with popularity) from the result cache, keyed by organisation,
 *    index version and a hash of everything retrieval depends on — so any change to the index
 *    misses at once — else from the index (degraded results are not cached);
 * 3. re-rank for this reader (their category affinity) and sort; page by offset cursors bound
 *    to the search;
 * 4. read the page's items for titles and snippets (matches in `<mark>`);
 * 5. record the search on `EVENTS` after the response (`recordSearch`; never fails it), once: a
 *    further page keeps the first page's `query_id` and is not a new search.
 *
 * A searcher (`targeting_key`, else the signed-in user) in the organisation's running search
 * experiment is ranked with their variant's settings over the stored ones, and the first page
 * records an exposure under its `query_id` (a failure one under a fresh id), so clicks on it
 * count for the variant (`shared/experiments/`).
 *
 * `Server-Timing` says `cache;desc="hit"` or `"miss"`, and how long understanding, retrieval
 * (on a miss) and reading the page's items took.
 */
export async function runSearch(
  c: Context<AppBindings>,
  input: SearchInput,
): Promise<SearchResponse> {
  const started = performance.now();
  const { services } = c.var;
  const principal = c.var.principal!;
  const targetingKey =
    input.targetingKey ?? (principal.kind === 'user' ? principal.userId : undefined);
  // Read beside the search's other settings (`search` awaits it); it never rejects.
  const assigning = assignment(services, principal.orgId, 'search', targetingKey);
  // A further page is the same search: its exposure was recorded with the first.
  const exposedBy = async () => (input.cursor ? null : await assigning);
  try {
    const body = await search(c, input, assigning, started);
    const exposed = await exposedBy();
    if (exposed) {
      recordExposure(services, principal.orgId, exposed, {
        subjectId: body.query_id,
        outcome: body.degraded ? 'degraded' : 'ok',
        latencyMs: performance.now() - started,
        resultCount: body.total,
      });
    }
    return body;
  } catch (error) {
    // A request refused for its own faults (4xx) was not served: only failures count.
    const exposed = await exposedBy();
    if (exposed && !(error instanceof AppError && error.status < 500)) {
      recordExposure(services, principal.orgId, exposed, {
        subjectId: newId('query'),
        outcome: 'error',
        latencyMs: performance.now() - started,
        resultCount: null,
      });
    }
    throw error;
  }
}

/**
 * The search itself (see {@link runSearch}), ranked with the settings of the assigned variant
 * over the organisation's when the searcher is in a running experiment (`assigning`).
 */
async function search(
  c: Context<AppBindings>,
  input: SearchInput,
  assigning: Promise<Assignment | null>,
  started: number,
): Promise<SearchResponse> {
  const services = c.var.services;
  const principal = c.var.principal!;
  const { orgId } = principal;
  const now = new Date();
  const wantsContent = input.types.includes('content');
  const wantsDocuments = input.types.includes('document');
  if (wantsDocuments) refuseDocumentSearch(principal, input);
  // Documents have no status, dates or metadata: a filter on them leaves documents out.
  const searchesDocuments = wantsDocuments && input.contentOnly.length === 0;
  const [understood, stored, version, namespaces, assigned] = await Promise.all([
    wrapTime(c, 'understand', understand(services, orgId, input.q, input.locale)),
    rankingSettings(services, orgId),
    readIndexVersion(services, orgId),
    indexNamespaces(services, orgId),
    assigning,
  ]);
  const settings = assigned ? variantSettings(stored, assigned, services.logger) : stored;
  const retrieval = {
    orgId,
    namespace: namespaces.active,
    text: understood.retrievalText,
    fallbackText: understood.fallbackText,
    ...(input.locale ? { locale: input.locale } : {}),
    mode: input.mode,
    filters: input.filters,
  };
  const fingerprint = await sha256Hex(JSON.stringify([retrieval, retrievalSettings(settings)]));
  const pageFingerprint = (
    await sha256Hex(`${fingerprint}:${input.sort}:${[...input.types].sort().join(',')}`)
  ).slice(0, 16);
  const cursor = input.cursor
    ? decodeSearchCursor(input.cursor, pageFingerprint, `${input.from}.cursor`)
    : undefined;
  const offset = cursor?.o ?? 0;
  // Every page of a search answers with the first page's query id: clicks on any page count
  // for the one search.
  const queryId = cursor?.q ?? newId('query');

  const cache = createCache<{ searchResults: Retrieved }>(
    cacheStores(services),
    { searchResults: CACHE_POLICIES.searchResults },
    { logger: services.logger, waitUntil: (p) => services.waitUntil(p) },
  );
  const key = version === undefined ? undefined : { orgId, id: fingerprint, version };
  let retrieved: Retrieved | undefined = wantsContent
    ? key
      ? (await cache.searchResults.get(key))?.value
      : undefined
    : { items: [], degraded: [] };
  const hit = wantsContent && retrieved !== undefined;
  // Documents are per caller (visibility), so never in the shared result cache.
  const documentSearch = searchesDocuments
    ? wrapTime(
        c,
        'documents',
        searchPassages(services, {
          orgId,
          principal,
          text: understood.retrievalText,
          keywordText: understood.fallbackText,
          mode: input.mode,
          ...(input.locale ? { locale: input.locale } : {}),
          ...(input.filters.categories ? { categories: input.filters.categories } : {}),
          ...(input.filters.tags ? { tags: input.filters.tags } : {}),
        }),
      )
    : Promise.resolve({ passages: [], degraded: [] });
  // Awaited below, unless content retrieval fails first: its own failure is then not unhandled.
  documentSearch.catch(() => {});
  if (!retrieved) {
    try {
      retrieved = await wrapTime(c, 'retrieve', retrieve(services, retrieval, settings, now));
    } catch (error) {
      throw new AppError({
        code: 'SERVICE_UNAVAILABLE',
        message: 'Neither the search index nor Postgres could answer the search.',
        headers: { 'Retry-After': String(SEARCH_RETRY_AFTER_SECONDS) },
        cause: error,
      });
    }
    if (key && retrieved.degraded.length === 0) {
      services.waitUntil(cache.searchResults.set(key, retrieved));
    }
  }
  let foundDocuments: FoundDocument[];
  let documentsDegraded: Retrieved['degraded'];
  try {
    const found = await documentSearch;
    foundDocuments = groupByDocument(found.passages);
    documentsDegraded = found.degraded;
  } catch (error) {
    throw new AppError({
      code: 'SERVICE_UNAVAILABLE',
      message: 'Postgres could not vouch for the documents found; retry.',
      headers: { 'Retry-After': String(SEARCH_RETRY_AFTER_SECONDS) },
      cause: error,
    });
  }
  setMetric(c, 'cache', hit ? 'hit' : 'miss');

  const affinity =
    principal.kind === 'user' && personalised(settings)
      ? await readerAffinity(services, orgId, principal.userId, now)
      : new Map<string, number>();
  const ranked = merge(
    rank(retrieved.items, settings, affinity, input.sort, now),
    scoreDocuments(foundDocuments, settings, affinity, now),
    input.sort,
  );
  const window = ranked.slice(offset, offset + input.limit);
  const page = window.flatMap((r) => (r.type === 'content' ? [r.item] : []));
  const terms = highlightTerms([
    understood.text,
    ...understood.corrections.map((x) => x.to),
    ...understood.synonyms,
  ]);
  const contentHits = (await wrapTime(c, 'hydrate', hydrate(services, orgId, page))).map(
    ({ item, translation }) => ({
      type: 'content' as const,
      id: item.contentId,
      locale: item.locale,
      title: highlight(translation?.title ?? item.title, terms),
      snippet: translation ? snippet(translation.body || (translation.summary ?? ''), terms) : '',
      url: `/v1/content/${item.contentId}?locale=${encodeURIComponent(item.locale)}`,
      category_id: item.categoryId,
      tags: item.tags,
      published_at: item.publishedAt,
      score: item.score.final,
      ...(input.explain ? { explain: item.score } : {}),
    }),
  );
  const byContentId = new Map(contentHits.map((h) => [h.id, h]));
  const hits = window.flatMap((r): SearchResponse['hits'] => {
    if (r.type === 'content') {
      const found = byContentId.get(r.item.contentId);
      return found ? [found] : [];
    }
    return [documentHit(r.document, r.score, terms, input.explain)];
  });
  const more = offset + input.limit < ranked.length;
  const body: SearchResponse = {
    query_id: queryId,
    query: {
      text: understood.text,
      normalized: understood.normalized,
      language: understood.language ?? null,
      classification: understood.classification,
      did_you_mean: understood.didYouMean,
      corrections: understood.corrections,
      synonyms: understood.synonyms,
    },
    mode: input.mode,
    degraded: retrieved.degraded.length > 0 || documentsDegraded.length > 0,
    degraded_reasons: [...new Set([...retrieved.degraded, ...documentsDegraded])],
    total: ranked.length,
    hits,
    facets: input.facets
      ? {
          ...facets([
            ...retrieved.items,
            ...foundDocuments.map((d) => ({
              categoryId: d.passages[0]!.categoryId,
              tags: d.passages[0]!.tags,
              locale: d.passages[0]!.language,
            })),
          ]),
          type: typeFacet(retrieved.items.length, foundDocuments.length, input.types),
        }
      : null,
    next_cursor: more
      ? encodeSearchCursor({ o: offset + input.limit, h: pageFingerprint, q: queryId })
      : null,
    ...(assigned ? { experiment: { key: assigned.experimentKey, variant: assigned.variant } } : {}),
  };
  // A further page is the same search: recorded once, for its first page.
  if (!cursor) {
    recordSearch(services, {
      principal,
      queryId: body.query_id,
      query: input.q,
      normalized: understood.normalized,
      mode: input.mode,
      locale: input.locale ?? null,
      resultCount: body.total,
      latencyMs: performance.now() - started,
      cache: hit ? 'hit' : 'miss',
      degraded: body.degraded,
      filters: input.filters,
    });
  }
  return body;
}

/**
 * The stored ranking settings with a variant's on top (each field it sets replaces the stored
 * one). Variant settings are checked when the experiment is created, so a failure here means
 * the defaults moved under them: the stored settings answer, and it is logged.
 */
function variantSettings(
  stored: RankingSettings,
  assigned: Assignment,
  logger: Services['logger'],
): RankingSettings {
  const merged = RankingSettings.safeParse({ ...stored, ...assigned.settings });
  if (merged.success) return merged.data;
  logger.warn('experiment variant settings invalid; searching with the stored ones', {
    experiment_id: assigned.experimentId,
    variant: assigned.variant,
  });
  return stored;
}

/**
 * A `type` that includes documents: the caller needs `documents:read` besides `search`, and
 * `type=document` alone cannot take a content-only filter (it could match nothing).
 */
function refuseDocumentSearch(principal: Principal, input: SearchInput): void {
  if (!principal.permissions.has('documents:read')) {
    throw new AppError({
      code: 'FORBIDDEN',
      message:
        'Searching documents (type=document) needs the "documents:read" permission as well, ' +
        `which ${principal.kind === 'user' ? `the ${principal.role} role does` : 'this API key does'} not have`,
      extensions: { permission: 'documents:read' },
    });
  }
  if (!input.types.includes('content') && input.contentOnly.length > 0) {
    const rule = 'only content has it: not a filter of a document search (type=document)';
    throw new AppError({
      code: 'VALIDATION_FAILED',
      message: `${input.contentOnly.map((name) => `${input.from}.${name}`).join(', ')}: ${rule}`,
      errors: input.contentOnly.map((name) => ({ path: `${input.from}.${name}`, message: rule })),
    });
  }
}

type Ranked =
  | { type: 'content'; item: RankedItem; final: number; key: string }
  | { type: 'document'; document: FoundDocument; score: ScoreParts; final: number; key: string };

/**
 * Documents scored as content is (`scoreCandidate`): relevance is the best passage's fused score,
 * the personal part the reader's affinity for the document's category; documents have no
 * popularity nor publication date, so those parts are 0.
 */
function scoreDocuments(
  found: readonly FoundDocument[],
  settings: RankingSettings,
  affinity: ReadonlyMap<string, number>,
  now: Date,
): Extract<Ranked, { type: 'document' }>[] {
  return found.map((document) => {
    const best = document.passages[0]!;
    const score = scoreCandidate(
      {
        key: document.documentId,
        keyword: best.keyword ?? best.sparse,
        semantic: best.similarity,
        fused: document.fused,
      },
      {
        popularity: 0,
        publishedAt: null,
        categoryId: best.categoryId,
        personal: best.categoryId === null ? 0 : (affinity.get(best.categoryId) ?? 0),
      },
      settings,
      now,
    );
    return { type: 'document', document, score, final: score.final, key: document.documentId };
  });
}

/**
 * Content and documents in one order: by final score for `relevance`; for `newest` and
 * `popular`, content first in its own order (documents have no date nor popularity), then
 * documents by score. Ties by id, so that pages never overlap.
 */
function merge(
  content: readonly RankedItem[],
  documents: readonly Extract<Ranked, { type: 'document' }>[],
  sort: SearchInput['sort'],
): Ranked[] {
  const items: Ranked[] = content.map((item) => ({
    type: 'content',
    item,
    final: item.score.final,
    key: item.contentId,
  }));
  if (documents.length === 0) return items;
  const byScore = (a: Ranked, b: Ranked) =>
    b.final - a.final || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  if (sort !== 'relevance') return [...items, ...[...documents].sort(byScore)];
  return [...items, ...documents].sort(byScore);
}

function documentHit(
  document: FoundDocument,
  score: ScoreParts,
  terms: ReadonlySet<string>,
  explain: boolean,
) {
  const best = document.passages[0]!;
  return {
    type: 'document' as const,
    id: document.documentId,
    document_id: document.documentId,
    locale: best.language,
    title: highlight(best.title, terms),
    snippet: snippet(best.text, terms),
    url: `/v1/documents/${document.documentId}`,
    category_id: best.categoryId,
    tags: best.tags,
    chunk_index: best.chunkIndex,
    page_start: best.pageStart,
    page_end: best.pageEnd,
    heading_path: best.headingPath,
    passages: document.passages.map((p) => ({
      chunk_index: p.chunkIndex,
      snippet: snippet(p.text, terms),
      page_start: p.pageStart,
      page_end: p.pageEnd,
      heading_path: p.headingPath,
      score: p.fused,
    })),
    score: score.final,
    ...(explain ? { explain: score } : {}),
  };
}

/** How many of the found items are content and how many documents (of the types asked for). */
function typeFacet(content: number, documents: number, types: readonly SearchType[]) {
  return [
    { value: 'content', count: content },
    { value: 'document', count: documents },
  ]
    .filter((f) => types.includes(f.value as SearchType))
    .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1));
}
