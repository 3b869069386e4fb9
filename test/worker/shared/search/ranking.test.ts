import { describe, expect, it } from 'vitest';
import {
  cosineOf,
  DEFAULT_RANKING,
  FLOOR_BACKGROUND_CANDIDATES,
  floorSemantic,
  freshness,
  fuse,
  RankingSettings,
  RRF_K,
  scoreCandidate,
  semanticFloor,
} from '../../../../shared/search/ranking.ts';

const list = (...pairs: [string, number][]) => pairs.map(([key, score]) => ({ key, score }));

describe('fuse', () => {
  it('sums reciprocal ranks: a document both retrievers found beats one found by either', () => {
    const fused = fuse(list(['a', 9], ['b', 5]), list(['c', 0.9], ['a', 0.8]), 'rrf');
    expect(fused.map((f) => f.key)).toEqual(['a', 'c', 'b']);
    const a = 1 / (RRF_K + 1) + 1 / (RRF_K + 2);
    expect(fused[0]).toEqual({ key: 'a', keyword: 9, semantic: 0.8, fused: 1 });
    expect(fused[1]!.fused).toBeCloseTo(1 / (RRF_K + 1) / a, 10);
    expect(fused[1]).toMatchObject({ keyword: null, semantic: 0.9 });
  });

  it('ignores raw score scales in RRF, uses them in weighted fusion', () => {
    const keyword = list(['a', 100], ['b', 1]);
    const semantic = list(['b', 0.95], ['a', 0.2]);
    // Both first once, second once: a tie under RRF, broken by key.
    expect(fuse(keyword, semantic, 'rrf').map((f) => f.fused)).toEqual([1, 1]);
    const weighted = fuse(keyword, semantic, 'weighted', 0.5);
    expect(weighted.map((f) => f.key)).toEqual(['a', 'b']);
    // a: 0.5·1 + 0.5·(0.2/0.95); b: 0.5·0.01 + 0.5·1.
    expect(weighted[1]!.fused).toBeCloseTo((0.005 + 0.5) / (0.5 + 0.5 * (0.2 / 0.95)), 10);
    expect(fuse(keyword, semantic, 'weighted', 1).map((f) => f.key)).toEqual(['b', 'a']);
    expect(fuse(keyword, semantic, 'weighted', 0).map((f) => f.key)).toEqual(['a', 'b']);
  });

  it('handles empty lists and zero or negative scores', () => {
    expect(fuse([], [], 'rrf')).toEqual([]);
    expect(fuse(list(['a', 0]), [], 'weighted')).toEqual([
      { key: 'a', keyword: 0, semantic: null, fused: 0 },
    ]);
    expect(fuse([], list(['a', -0.3], ['b', 0.3]), 'weighted').map((f) => f.key)).toEqual([
      'b',
      'a',
    ]);
  });
});

/** Dense candidates with these cosine similarities, as Upstash scores them: (1 + cos) / 2. */
const dense = (...pairs: [string, number][]) =>
  pairs.map(([key, cos]) => ({ key, score: (1 + cos) / 2 }));

/** `n` candidates of unrelated text: cosines from 0.02 to about 0.1, as the local model gives. */
const background = (n: number) =>
  Array.from({ length: n }, (_, i) => [`noise${i}`, 0.1 - (0.08 * i) / n] as [string, number]);

describe('semantic floors', () => {
  const floors = {
    semantic_floor: 0.3,
    semantic_only_floor: 0.5,
    semantic_min_similarity: 0.15,
  };

  it("reads Upstash's dense score as a cosine similarity", () => {
    expect(cosineOf(1)).toBe(1);
    expect(cosineOf(0.5)).toBe(0);
    expect(cosineOf(0.25)).toBe(-0.5);
  });

  it('keeps what stands out from the weakest candidate, whatever the scale of the model', () => {
    // Two models, one scoring unrelated text about 0.05, the other about 0.45: the same item
    // stands out in both, and the floor moves with the model.
    for (const shift of [0, 0.4]) {
      const candidates = dense(
        ['cycling', 0.6 + shift],
        ['bikes', 0.4 + shift],
        ...background(20).map(([k, c]): [string, number] => [k, c + shift]),
      );
      const floor = semanticFloor(candidates, 0.3, -1);
      expect(floor).toBeCloseTo(0.024 + shift + 0.3 * (0.6 - 0.024), 3);
      expect(floorSemantic(candidates, { ...floors, semantic_min_similarity: -1 })).toEqual(
        dense(['cycling', 0.6 + shift], ['bikes', 0.4 + shift]),
      );
    }
  });

  it('needs enough candidates to measure the background; the absolute floor always applies', () => {
    // A filter left three items, all close: the weakest is not background, so all stay.
    const few = dense(['a', 0.62], ['b', 0.6], ['c', 0.58]);
    expect(few.length).toBeLessThan(FLOOR_BACKGROUND_CANDIDATES);
    expect(semanticFloor(few, 0.3, 0.15)).toBe(0.15);
    expect(floorSemantic(few, floors)).toEqual(few);
    // Nothing near the query: every candidate is below the absolute floor.
    expect(floorSemantic(dense(...background(30)), floors)).toEqual([]);
    expect(floorSemantic(dense(['x', 0.1], ['y', 0.2]), floors)).toEqual(dense(['y', 0.2]));
  });

  it('asks more of a hybrid candidate that matches no query term', () => {
    const candidates = dense(
      ['both', 0.5],
      ['semantic only, close', 0.55],
      ['semantic only, middling', 0.3],
      ['both, middling', 0.3],
      ...background(20),
    );
    const keyword = list(['both', 3], ['both, middling', 1], ['keyword only', 2]);
    const kept = floorSemantic(candidates, floors, keyword).map((c) => c.key);
    // The floors: 0.3 of the way from 0.024 to 0.55 is about 0.18; 0.5 of the way, about 0.29.
    expect(kept).toEqual([
      'both',
      'semantic only, close',
      'semantic only, middling',
      'both, middling',
    ]);
    const strict = floorSemantic(candidates, { ...floors, semantic_only_floor: 0.6 }, keyword);
    expect(strict.map((c) => c.key)).toEqual(['both', 'semantic only, close', 'both, middling']);
    // Alone, the semantic side keeps the middling one: nothing corroborates or contradicts it.
    expect(
      floorSemantic(candidates, { ...floors, semantic_only_floor: 0.6 }).map((c) => c.key),
    ).toContain('semantic only, middling');
  });

  it('turns off at 0 and -1, and validates its settings', () => {
    const candidates = dense(['a', 0.6], ...background(20), ['far', -0.2]);
    const off = { semantic_floor: 0, semantic_only_floor: 0, semantic_min_similarity: -1 };
    expect(floorSemantic(candidates, off)).toEqual(candidates);
    for (const bad of [
      { semantic_floor: 1.1 },
      { semantic_only_floor: -0.1 },
      { semantic_min_similarity: 1.5 },
    ]) {
      expect(RankingSettings.safeParse({ ...DEFAULT_RANKING, ...bad }).success).toBe(false);
    }
  });
});

describe('freshness', () => {
  const now = new Date('2026-11-22T00:00:00Z');
  it('halves every half-life and is 0 for never-published items', () => {
    expect(freshness(now, now, 30)).toBe(1);
    expect(freshness(new Date('2026-10-23T00:00:00Z'), now, 30)).toBeCloseTo(0.5, 10);
    expect(freshness(new Date('2026-09-23T00:00:00Z'), now, 30)).toBeCloseTo(0.25, 10);
    expect(freshness(new Date('2027-01-01T00:00:00Z'), now, 30)).toBe(1);
    expect(freshness(null, now, 30)).toBe(0);
  });
});

describe('scoreCandidate', () => {
  const now = new Date('2026-11-22T00:00:00Z');
  const fused = { key: 'a', keyword: 3.2, semantic: 0.7, fused: 0.8 };
  const features = { popularity: 0.5, publishedAt: now, categoryId: 'cat_1', personal: 0.25 };

  it('is the weighted mean of relevance, popularity, freshness and personal, every part shown', () => {
    const parts = scoreCandidate(fused, features, DEFAULT_RANKING, now);
    expect(parts).toEqual({
      keyword: 3.2,
      semantic: 0.7,
      fused: 0.8,
      popularity: 0.5,
      freshness: 1,
      personal: 0.25,
      final: expect.closeTo(0.7 * 0.8 + 0.1 * 0.5 + 0.1 * 1 + 0.1 * 0.25, 10),
      weights: DEFAULT_RANKING.weights,
    });
  });

  it("applies a category's own weights, and clamps features into [0, 1]", () => {
    const settings = {
      ...DEFAULT_RANKING,
      category_weights: { cat_1: { relevance: 1, popularity: 0, freshness: 3, personal: 0 } },
    };
    const parts = scoreCandidate(fused, { ...features, popularity: 7 }, settings, now);
    expect(parts.final).toBeCloseTo((0.8 + 3) / 4, 10);
    expect(parts.popularity).toBe(1);
    const other = scoreCandidate(fused, { ...features, categoryId: 'cat_2' }, settings, now);
    expect(other.weights).toEqual(DEFAULT_RANKING.weights);
    const zero = { relevance: 0, popularity: 0, freshness: 0, personal: 0 };
    const uncategorised = { ...features, categoryId: null };
    // No weight at all: relevance alone.
    expect(scoreCandidate(fused, uncategorised, { ...settings, weights: zero }, now).final).toBe(
      0.8,
    );
  });

  it('validates settings: ranges, known fusion methods, no stray fields', () => {
    expect(RankingSettings.safeParse(DEFAULT_RANKING).success).toBe(true);
    const bad = [
      { ...DEFAULT_RANKING, fusion: 'max' },
      { ...DEFAULT_RANKING, semantic_weight: 1.5 },
      { ...DEFAULT_RANKING, weights: { ...DEFAULT_RANKING.weights, popularity: -1 } },
      { ...DEFAULT_RANKING, freshness_half_life_days: 0 },
      { ...DEFAULT_RANKING, extra: true },
    ];
    for (const settings of bad) expect(RankingSettings.safeParse(settings).success).toBe(false);
  });
});
