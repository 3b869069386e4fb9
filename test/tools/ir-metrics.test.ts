import { describe, expect, it } from 'vitest';
import {
  addTypos,
  averagePrecisionAt,
  mean,
  misspell,
  ndcgAt,
  recallAt,
  TYPO_EDITS,
} from '../../bench/ir-metrics.ts';
import { createRandom } from '../../shared/random.ts';

const relevant = new Set([1, 2, 3]);

describe('ndcgAt', () => {
  it('is 1 for an ideal ranking and 0 when nothing relevant is in the top k', () => {
    expect(ndcgAt([1, 2, 3, 9], relevant)).toBe(1);
    expect(ndcgAt([3, 1, 2], relevant)).toBe(1);
    expect(ndcgAt([7, 8, 9], relevant)).toBe(0);
    expect(ndcgAt([], relevant)).toBe(0);
  });

  it('discounts by log2 of the rank plus one', () => {
    // Relevant at ranks 2 and 4: DCG = 1/log2(3) + 1/log2(5); ideal (3 relevant) =
    // 1 + 1/log2(3) + 1/2.
    const dcg = 1 / Math.log2(3) + 1 / Math.log2(5);
    const ideal = 1 + 1 / Math.log2(3) + 0.5;
    expect(ndcgAt([9, 1, 8, 2], relevant)).toBeCloseTo(dcg / ideal, 12);
  });

  it('caps the ideal at k relevant documents and ignores ranks below k', () => {
    const many = new Set([1, 2, 3, 4, 5]);
    // k = 2: ideal is 1 + 1/log2(3) though five are relevant.
    expect(ndcgAt([1, 2, 3], many, 2)).toBe(1);
    expect(ndcgAt([9, 1, 2], many, 2)).toBeCloseTo(1 / Math.log2(3) / (1 + 1 / Math.log2(3)), 12);
    expect(ndcgAt([8, 9, 1], many, 2)).toBe(0);
  });

  it('counts a document repeated in the ranking once', () => {
    expect(ndcgAt([1, 1, 1], new Set([1, 2]))).toBeCloseTo(1 / (1 + 1 / Math.log2(3)), 12);
  });

  it('refuses a query without relevant documents and a depth that is not a positive integer', () => {
    expect(() => ndcgAt([1], new Set<number>())).toThrow(RangeError);
    expect(() => ndcgAt([1], relevant, 0)).toThrow(/depth/);
    expect(() => ndcgAt([1], relevant, 1.5)).toThrow(/depth/);
  });
});

describe('averagePrecisionAt', () => {
  it('averages the precision at each relevant hit over all relevant documents', () => {
    // Hits at ranks 1 and 3: (1/1 + 2/3) / 3 relevant.
    expect(averagePrecisionAt([1, 9, 2, 8], relevant)).toBeCloseTo((1 + 2 / 3) / 3, 12);
    expect(averagePrecisionAt([1, 2, 3], relevant)).toBe(1);
    expect(averagePrecisionAt([9, 8], relevant)).toBe(0);
  });

  it('counts only the top `depth` and each document once', () => {
    expect(averagePrecisionAt([9, 1, 2], relevant, 2)).toBeCloseTo(1 / 2 / 3, 12);
    expect(averagePrecisionAt([1, 1, 2], relevant)).toBeCloseTo((1 + 1) / 3, 12);
  });

  it('refuses a query without relevant documents', () => {
    expect(() => averagePrecisionAt([1], new Set<number>())).toThrow(RangeError);
  });
});

describe('recallAt', () => {
  it('is the share of relevant documents in the top `depth`', () => {
    expect(recallAt([1, 9, 2], relevant)).toBeCloseTo(2 / 3, 12);
    expect(recallAt([9, 1, 2], relevant, 2)).toBeCloseTo(1 / 3, 12);
    expect(recallAt([2, 2, 2], relevant)).toBeCloseTo(1 / 3, 12);
    expect(recallAt([], relevant)).toBe(0);
  });

  it('refuses a query without relevant documents', () => {
    expect(() => recallAt([1], new Set<number>())).toThrow(RangeError);
  });
});

describe('mean', () => {
  it('is the arithmetic mean, NaN for none', () => {
    expect(mean([1, 2, 6])).toBe(3);
    expect(mean([])).toBeNaN();
  });
});

/** Levenshtein–Damerau (optimal string alignment) distance, to check one edit was made. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

describe('misspell', () => {
  it('makes exactly one edit of the kind asked for, never leaving the word as it was', () => {
    const random = createRandom(7);
    for (const word of ['retrieval', 'of', 'aa', 'Dewey', 'committee']) {
      for (const edit of TYPO_EDITS) {
        for (let n = 0; n < 50; n++) {
          const typo = misspell(word, edit, random);
          expect(typo).not.toBe(word);
          expect(editDistance(word, typo)).toBe(1);
          const lengthChange = { insert: 1, delete: -1, substitute: 0, transpose: 0 }[edit];
          expect(typo.length - word.length).toBe(lengthChange);
          expect(typo).toMatch(/^[A-Za-z]+$/);
        }
      }
    }
  });

  it('transposes two different adjacent letters', () => {
    expect(misspell('ab', 'transpose', createRandom(1))).toBe('ba');
    expect(misspell('aab', 'transpose', createRandom(1))).toBe('aba');
  });

  it('refuses a word shorter than two letters', () => {
    expect(() => misspell('a', 'delete', createRandom(1))).toThrow(/too short/);
  });
});

describe('addTypos', () => {
  const query = 'What problems and concerns are there in making up descriptive titles?';

  it('changes 30% of the eligible words (rounded) by one edit each, keeping the rest', () => {
    const { text, changes } = addTypos(query, createRandom(42));
    // 11 words of two letters or more: round(3.3) = 3.
    expect(changes).toHaveLength(3);
    for (const { from, to } of changes) expect(editDistance(from, to)).toBe(1);
    expect(text.endsWith('?')).toBe(true);
    const before = query.split(' ');
    const after = text.split(' ');
    expect(after).toHaveLength(before.length);
    const differing = before.filter((w, i) => w !== after[i]);
    expect(differing).toHaveLength(3);
  });

  it('changes at least one word of a short query and none of a query without words', () => {
    expect(addTypos('information science', createRandom(3)).changes).toHaveLength(1);
    expect(addTypos('a I 42 ?', createRandom(3))).toEqual({ text: 'a I 42 ?', changes: [] });
  });

  it('ignores one-letter words when choosing', () => {
    const { changes } = addTypos('a b c retrieval', createRandom(9));
    expect(changes).toEqual([{ from: 'retrieval', to: expect.any(String) }]);
  });

  it('gives the same typos for the same seed and different ones for another', () => {
    const a = addTypos(query, createRandom(5)).text;
    expect(addTypos(query, createRandom(5)).text).toBe(a);
    const others = [6, 7, 8, 9].map((seed) => addTypos(query, createRandom(seed)).text);
    expect(others.some((t) => t !== a)).toBe(true);
  });

  it('honours another rate', () => {
    expect(addTypos(query, createRandom(1), 1).changes).toHaveLength(11);
    expect(addTypos(query, createRandom(1), 0).changes).toHaveLength(1);
  });
});
