import { z } from 'zod';

/** How keyword and semantic candidate lists become one. */
export const FusionMethod = z.enum(['rrf', 'weighted']);
export type FusionMethod = z.infer<typeof FusionMethod>;

/** The re-rank weights; they need not sum to 1 (the final score is their weighted mean). */
export const RankWeights = z.strictObject({
  relevance: z.number().min(0).max(10),
  popularity: z.number().min(0).max(10),
  freshness: z.number().min(0).max(10),
  personal: z.number().min(0).max(10),
});
export type RankWeights = z.infer<typeof RankWeights>;

/**
 * An organisation's ranking settings (`organizations.settings.search`): the fusion method, the
 * semantic share of a weighted fusion, the re-rank weights, overrides per category, and the
 * freshness half-life.
 */
export const RankingSettings = z.strictObject({
  fusion: FusionMethod,
  /** Weighted fusion only: fused = (1 - semantic_weight) · keyword + semantic_weight · semantic. */
  semantic_weight: z.number().min(0).max(1),
  weights: RankWeights,
  /** Weights for items of a category, by category id, replacing `weights` for them. */
  category_weights: z.record(z.string().min(1).max(40), RankWeights),
  /** Days after publication at which freshness has halved. */
  freshness_half_life_days: z.number().min(0.1).max(3650),
  /**
   * The semantic side's relative floor: a candidate's cosine similarity must reach this share
   * of the way from the side's weakest candidate to its best ({@link semanticFloor}).
   */
  semantic_floor: z.number().min(0).max(1),
  /**
   * The same share for a hybrid search's semantic candidates that the keyword side did not
   * find: with no query term to vouch for them, they must stand out further.
   */
  semantic_only_floor: z.number().min(0).max(1),
  /** The semantic side's absolute floor: the least cosine similarity a candidate may have. */
  semantic_min_similarity: z.number().min(-1).max(1),
});
export type RankingSettings = z.infer<typeof RankingSettings>;

/**
 * Defaults: relevance dominates; popularity and freshness nudge among comparably relevant
 * items; the personal part only reorders near-ties. Reciprocal rank fusion needs no score
 * calibration between the two retrievers, which is why it is the default.
 */
export const DEFAULT_RANKING: RankingSettings = {
  fusion: 'rrf',
  semantic_weight: 0.5,
  weights: { relevance: 0.7, popularity: 0.1, freshness: 0.1, personal: 0.1 },
  category_weights: {},
  freshness_half_life_days: 30,
  semantic_floor: 0.3,
  semantic_only_floor: 0.5,
  semantic_min_similarity: 0.15,
};

/** The rank constant of reciprocal rank fusion (Cormack et al. 2009): 1 / (k + rank). */
export const RRF_K = 60;

/** A retrieved candidate: a document key and the retriever's score (higher is better). */
export type Candidate = { key: string; score: number };

export type Fused = {
  key: string;
  /** The keyword and semantic scores as retrieved (null: not retrieved by that side). */
  keyword: number | null;
  semantic: number | null;
  /** The fused score, scaled so that the best candidate has 1. */
  fused: number;
};

/**
 * Fuses keyword and semantic candidate lists (each best first). `rrf` sums 1 / (k + rank) over
 * the lists a candidate appears in; `weighted` mixes the scores after scaling each list by its
 * best score (a candidate absent from a list gets 0 there). Either way the result is scaled to
 * [0, 1] by the best fused score and sorted best first, ties by key for determinism.
 */
export function fuse(
  keyword: readonly Candidate[],
  semantic: readonly Candidate[],
  method: FusionMethod,
  semanticWeight = DEFAULT_RANKING.semantic_weight,
): Fused[] {
  const byKey = new Map<string, Fused>();
  const entry = (key: string) => {
    let e = byKey.get(key);
    if (!e) {
      e = { key, keyword: null, semantic: null, fused: 0 };
      byKey.set(key, e);
    }
    return e;
  };
  const topKeyword = Math.max(0, ...keyword.map((c) => c.score));
  const topSemantic = Math.max(0, ...semantic.map((c) => c.score));
  keyword.forEach((c, rank) => {
    const e = entry(c.key);
    e.keyword = c.score;
    e.fused +=
      method === 'rrf'
        ? 1 / (RRF_K + rank + 1)
        : (1 - semanticWeight) * (topKeyword > 0 ? c.score / topKeyword : 0);
  });
  semantic.forEach((c, rank) => {
    const e = entry(c.key);
    e.semantic = c.score;
    e.fused +=
      method === 'rrf'
        ? 1 / (RRF_K + rank + 1)
        : semanticWeight * (topSemantic > 0 ? Math.max(0, c.score) / topSemantic : 0);
  });
  const fused = [...byKey.values()];
  const best = Math.max(0, ...fused.map((f) => f.fused));
  for (const f of fused) f.fused = best > 0 ? f.fused / best : 0;
  return fused.sort((a, b) => b.fused - a.fused || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * How many semantic candidates the relative floor needs: the weakest of fewer may well be
 * relevant itself (a filter left only a few items), so it cannot stand for the background.
 */
export const FLOOR_BACKGROUND_CANDIDATES = 10;

/**
 * The cosine similarity behind a dense candidate's score: Upstash scores cosine (and the dot
 * product of the unit vectors Sift stores) as (1 + cos) / 2, so every item of a namespace
 * scores at least about 0.5 and the raw score says little about relevance.
 */
export const cosineOf = (score: number) => 2 * score - 1;

/**
 * The least cosine similarity a semantic candidate needs: at least `minSimilarity` (the
 * absolute floor), and, once there are {@link FLOOR_BACKGROUND_CANDIDATES} candidates, at least
 * `share` of the way from the weakest candidate to the best. The weakest of the side's
 * candidates stands for what unrelated text scores against this query with this model, so the
 * relative floor holds for any model and any query length, where an absolute one would not
 * (one model's unrelated text scores 0.1, another's 0.5); candidates that merely share some
 * character n-grams or a topic's vocabulary with the query stay below it when something
 * really close exists.
 */
export function semanticFloor(
  semantic: readonly Candidate[],
  share: number,
  minSimilarity: number,
): number {
  if (semantic.length < FLOOR_BACKGROUND_CANDIDATES) return minSimilarity;
  let best = Number.NEGATIVE_INFINITY;
  let weakest = Number.POSITIVE_INFINITY;
  for (const c of semantic) {
    const cos = cosineOf(c.score);
    if (cos > best) best = cos;
    if (cos < weakest) weakest = cos;
  }
  return Math.max(minSimilarity, weakest + share * (best - weakest));
}

/**
 * The semantic candidates that clear the floors of `settings`: `semantic_min_similarity` and
 * `semantic_floor` ({@link semanticFloor}). In a hybrid search (`keyword` given: the keyword
 * side's candidates), a candidate the keyword side did not find must clear
 * `semantic_only_floor` instead: nothing in it matched a query term, so only a similarity that
 * stands out vouches for it. The keyword side needs no such floor: each of its candidates
 * matches at least one query term.
 */
export function floorSemantic(
  semantic: readonly Candidate[],
  settings: Pick<
    RankingSettings,
    'semantic_floor' | 'semantic_only_floor' | 'semantic_min_similarity'
  >,
  keyword?: readonly Candidate[],
): Candidate[] {
  const floor = semanticFloor(semantic, settings.semantic_floor, settings.semantic_min_similarity);
  if (!keyword) return semantic.filter((c) => cosineOf(c.score) >= floor);
  const found = new Set(keyword.map((c) => c.key));
  const onlyFloor = semanticFloor(
    semantic,
    Math.max(settings.semantic_floor, settings.semantic_only_floor),
    settings.semantic_min_similarity,
  );
  return semantic.filter((c) => cosineOf(c.score) >= (found.has(c.key) ? floor : onlyFloor));
}

/** The settings retrieval depends on (the others only re-rank): part of the result cache key. */
export function retrievalSettings(settings: RankingSettings) {
  return {
    fusion: settings.fusion,
    semantic_weight: settings.semantic_weight,
    semantic_floor: settings.semantic_floor,
    semantic_only_floor: settings.semantic_only_floor,
    semantic_min_similarity: settings.semantic_min_similarity,
  };
}

/** What the re-rank knows about a candidate besides its relevance. */
export type RankFeatures = {
  /** Popularity in [0, 1] (engagement, log-scaled against the organisation's most popular). */
  popularity: number;
  /** When the item was first published; null for never (freshness 0). */
  publishedAt: Date | null;
  categoryId: string | null;
  /** The searcher's affinity for the item's category in [0, 1]; 0 when unknown. */
  personal: number;
};

/** Every part of a hit's score, as `explain=true` shows it. */
export type ScoreParts = {
  keyword: number | null;
  semantic: number | null;
  fused: number;
  popularity: number;
  freshness: number;
  personal: number;
  final: number;
  /** The weights applied (the organisation's, or its category's). */
  weights: RankWeights;
};

/** Freshness in (0, 1]: 1 when just published, halving every `halfLifeDays`. */
export function freshness(publishedAt: Date | null, now: Date, halfLifeDays: number): number {
  if (publishedAt === null) return 0;
  const ageDays = Math.max(0, now.getTime() - publishedAt.getTime()) / 86_400_000;
  return 0.5 ** (ageDays / halfLifeDays);
}

/**
 * The re-rank: final = Σ weightᵢ · partᵢ / Σ weightᵢ over relevance (the fused score),
 * popularity, freshness and personal, with the weights of the item's category when the
 * settings have them. Returns every part, so a response can explain its order.
 */
export function scoreCandidate(
  fused: Fused,
  features: RankFeatures,
  settings: RankingSettings,
  now: Date,
): ScoreParts {
  const weights =
    (features.categoryId !== null ? settings.category_weights[features.categoryId] : undefined) ??
    settings.weights;
  const parts = {
    relevance: fused.fused,
    popularity: clamp01(features.popularity),
    freshness: freshness(features.publishedAt, now, settings.freshness_half_life_days),
    personal: clamp01(features.personal),
  };
  const total = weights.relevance + weights.popularity + weights.freshness + weights.personal;
  const final =
    total > 0
      ? (weights.relevance * parts.relevance +
          weights.popularity * parts.popularity +
          weights.freshness * parts.freshness +
          weights.personal * parts.personal) /
        total
      : parts.relevance;
  return {
    keyword: fused.keyword,
    semantic: fused.semantic,
    fused: fused.fused,
    popularity: parts.popularity,
    freshness: parts.freshness,
    personal: parts.personal,
    final,
    weights,
  };
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}
