import { z } from 'zod';
import type { Services } from '../services.ts';
import { popularity } from './features.ts';
import { type KeywordHit, keywordSearch, type SearchFilters } from './keyword.ts';
import {
  type Candidate,
  floorSemantic,
  fuse,
  type RankingSettings,
  type ScoreParts,
  scoreCandidate,
} from './ranking.ts';
import { type VectorHit, type VectorSide, vectorSearch } from './vector-search.ts';

export const SearchMode = z.enum(['keyword', 'semantic', 'hybrid']);
export type SearchMode = z.infer<typeof SearchMode>;

export const SearchSort = z.enum(['relevance', 'newest', 'popular']);
export type SearchSort = z.infer<typeof SearchSort>;

/** Candidates each retriever returns before fusion; results and facets come from these. */
export const CANDIDATES_PER_SIDE = 200;

/** Why a result set is not what the request asked for (`degraded: true`). */
export type DegradedReason =
  | 'vector_unavailable'
  | 'keyword_side_unavailable'
  | 'semantic_side_unavailable'
  | 'ranking_features_unavailable';

/** What retrieval needs to know: the (already understood) query text and its scope. */
export type Retrieval = {
  orgId: string;
  /** The organisation's active namespace of the vector index; default the organisation id. */
  namespace?: string;
  /** The text to retrieve with (corrected and expanded by query understanding). */
  text: string;
  /** The text for Postgres full-text search, in `websearch_to_tsquery` syntax; else `text`. */
  fallbackText?: string;
  locale?: string;
  mode: SearchMode;
  filters: SearchFilters;
};

/**
 * One item found: its best translation and what ranking needs. Plain JSON (dates as ISO
 * strings), so that a retrieved set can be cached as it is.
 */
export type FoundItem = {
  contentId: string;
  locale: string;
  keyword: number | null;
  semantic: number | null;
  fused: number;
  title: string;
  categoryId: string | null;
  tags: string[];
  publishedAt: string | null;
  popularity: number;
};

/** Every item retrieval found, best fused first, and what was missing when it ran. */
export type Retrieved = { items: FoundItem[]; degraded: DegradedReason[] };

const key = (contentId: string, locale: string) => `${contentId}:${locale}`;
const iso = (seconds: number | undefined) =>
  seconds === undefined ? null : new Date(seconds * 1_000).toISOString();

type Described = Omit<FoundItem, 'keyword' | 'semantic' | 'fused' | 'popularity'>;

function fromVector(hit: VectorHit): Described {
  const m = hit.metadata;
  return {
    contentId: hit.contentId,
    locale: hit.locale,
    title: m.title ?? '',
    categoryId: m.category_id ?? null,
    tags: m.tags ?? [],
    publishedAt: iso(m.published_at),
  };
}

function fromKeyword(hit: KeywordHit): Described {
  return {
    contentId: hit.contentId,
    locale: hit.locale,
    title: hit.title,
    categoryId: hit.categoryId,
    tags: hit.tags,
    publishedAt: hit.publishedAt?.toISOString() ?? null,
  };
}

/**
 * Retrieves, fuses and describes the candidates of a search:
 *
 * - `keyword` asks the sparse (BM25) side of the organisation's vector namespace, `semantic`
 *   the dense side, `hybrid` both at once, fused by the organisation's method;
 * - each side has a relevance floor: a keyword candidate matches a query term, a semantic one
 *   clears the organisation's semantic floors (`floorSemantic`), so `total` counts what is
 *   relevant rather than the namespace;
 * - when the vector index fails (down, slow, circuit open) the keyword candidates come from
 *   Postgres full-text search instead (`vector_unavailable`); when only one side of a hybrid
 *   search fails, the other answers alone;
 * - an item found in several locales keeps its best translation;
 * - popularity comes from Postgres; when Postgres is down it is 0 for all
 *   (`ranking_features_unavailable`) and the vector results stand.
 *
 * Throws only when no retriever answered (the caller answers 503).
 */
export async function retrieve(
  services: Pick<Services, 'vector' | 'embeddings' | 'db' | 'guard' | 'logger'>,
  query: Retrieval,
  settings: RankingSettings,
  now: Date,
): Promise<Retrieved> {
  const degraded: DegradedReason[] = [];
  const sides: VectorSide[] =
    query.mode === 'keyword'
      ? ['sparse']
      : query.mode === 'semantic'
        ? ['dense']
        : ['sparse', 'dense'];
  const settled = await Promise.allSettled(
    sides.map((side) => vectorSearch(services, { ...query, side, topK: CANDIDATES_PER_SIDE })),
  );
  const described = new Map<string, Described>();
  const lists: Record<VectorSide, Candidate[]> = { sparse: [], dense: [] };
  let answered = 0;
  settled.forEach((result, i) => {
    const side = sides[i]!;
    if (result.status === 'rejected') {
      services.logger.warn('search retrieval failed', { side, error: result.reason });
      return;
    }
    answered++;
    for (const hit of result.value) {
      const k = key(hit.contentId, hit.locale);
      if (!described.has(k)) described.set(k, fromVector(hit));
      lists[side].push({ key: k, score: hit.score });
    }
  });

  if (answered === 0) {
    degraded.push('vector_unavailable');
    const hits = await services.guard('postgres', () =>
      keywordSearch(services.db, {
        orgId: query.orgId,
        text: query.fallbackText ?? query.text,
        ...(query.locale ? { locale: query.locale } : {}),
        filters: query.filters,
        limit: CANDIDATES_PER_SIDE,
      }),
    );
    for (const hit of hits) {
      const k = key(hit.contentId, hit.locale);
      described.set(k, fromKeyword(hit));
      lists.sparse.push({ key: k, score: hit.score });
    }
  } else if (answered < sides.length) {
    degraded.push(
      settled[0]!.status === 'rejected' ? 'keyword_side_unavailable' : 'semantic_side_unavailable',
    );
  }

  // Each side's relevance floor: the keyword side's candidates each match a query term; the
  // semantic side's must stand out from its weakest (in hybrid, further when only it found them).
  if (lists.dense.length > 0) {
    const corroborating = query.mode === 'hybrid' && answered === sides.length;
    lists.dense = floorSemantic(lists.dense, settings, corroborating ? lists.sparse : undefined);
  }

  const seen = new Set<string>();
  const fused = fuse(lists.sparse, lists.dense, settings.fusion, settings.semantic_weight).filter(
    (f) => {
      const contentId = described.get(f.key)!.contentId;
      if (seen.has(contentId)) return false;
      seen.add(contentId);
      return true;
    },
  );
  let popular = new Map<string, number>();
  try {
    popular = await services.guard('postgres', () =>
      popularity(
        services.db,
        query.orgId,
        fused.map((f) => described.get(f.key)!.contentId),
        now,
      ),
    );
  } catch (error) {
    services.logger.warn('search ranking features unavailable', { error });
    degraded.push('ranking_features_unavailable');
  }
  return {
    items: fused.map((f) => {
      const d = described.get(f.key)!;
      return {
        ...d,
        keyword: f.keyword,
        semantic: f.semantic,
        fused: f.fused,
        popularity: popular.get(d.contentId) ?? 0,
      };
    }),
    degraded,
  };
}

/** A found item with its score parts, in result order. */
export type RankedItem = FoundItem & { score: ScoreParts };

/**
 * Scores every found item (the re-rank: relevance, popularity, freshness, personal — the
 * reader's affinity for the item's category) and orders them: by final score for
 * `relevance`, else newest or most popular first with the final score breaking ties; then by
 * content id, so that pages never overlap.
 */
export function rank(
  items: readonly FoundItem[],
  settings: RankingSettings,
  affinity: ReadonlyMap<string, number>,
  sort: SearchSort,
  now: Date,
): RankedItem[] {
  const ranked = items.map((item) => ({
    ...item,
    score: scoreCandidate(
      { key: item.contentId, keyword: item.keyword, semantic: item.semantic, fused: item.fused },
      {
        popularity: item.popularity,
        publishedAt: item.publishedAt === null ? null : new Date(item.publishedAt),
        categoryId: item.categoryId,
        personal: item.categoryId === null ? 0 : (affinity.get(item.categoryId) ?? 0),
      },
      settings,
      now,
    ),
  }));
  const primary = (r: RankedItem) =>
    sort === 'newest'
      ? r.publishedAt === null
        ? Number.NEGATIVE_INFINITY
        : Date.parse(r.publishedAt)
      : sort === 'popular'
        ? r.popularity
        : r.score.final;
  return ranked.sort(
    (a, b) =>
      primary(b) - primary(a) ||
      b.score.final - a.score.final ||
      (a.contentId < b.contentId ? -1 : a.contentId > b.contentId ? 1 : 0),
  );
}

/** A facet value and how many found items have it. */
export type FacetCount = { value: string; count: number };

export type Facets = { category: FacetCount[]; tags: FacetCount[]; locale: FacetCount[] };

/** How many values of a facet are listed (the most frequent). */
export const FACET_VALUES = 20;

/**
 * Counts over every found item (not only the page): categories, tags and locales, most
 * frequent first, then alphabetically; at most {@link FACET_VALUES} values each.
 */
export function facets(
  items: readonly Pick<FoundItem, 'categoryId' | 'tags' | 'locale'>[],
): Facets {
  const count = (values: (string | null)[][]) => {
    const counts = new Map<string, number>();
    for (const list of values) {
      for (const v of new Set(list)) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    return [...counts]
      .map(([value, n]) => ({ value, count: n }))
      .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1))
      .slice(0, FACET_VALUES);
  };
  return {
    category: count(items.map((i) => [i.categoryId])),
    tags: count(items.map((i) => i.tags)),
    locale: count(items.map((i) => [i.locale])),
  };
}
