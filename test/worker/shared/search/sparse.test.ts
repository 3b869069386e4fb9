import { describe, expect, it } from 'vitest';
import {
  AVERAGE_DOCUMENT_LENGTH,
  FIELD_WEIGHTS,
  type SparseVector,
  sparseDocumentVector,
  sparseQueryVector,
  termIndex,
} from '../../../../shared/search/sparse.ts';
import { analyze } from '../../../../shared/text/analyze.ts';

/** The weight a vector gives the stem of `word`, 0 when it has none. */
const weight = (vector: SparseVector, word: string) => {
  const [term] = analyze(word);
  const at = vector.indices.indexOf(termIndex(term!));
  return at === -1 ? 0 : vector.values[at]!;
};

/** BM25's term-frequency part with k1 = 1.2, b = 0.75. */
const bm25 = (tf: number, length: number) =>
  (tf * 2.2) / (tf + 1.2 * (0.25 + (0.75 * length) / AVERAGE_DOCUMENT_LENGTH));

describe('sparse vectors', () => {
  it('gives a query 1 per distinct stem, stop words out, indices sorted', () => {
    const query = sparseQueryVector('The storms and the STORM of storms');
    expect(query).toEqual({ indices: [termIndex('storm')], values: [1] });
    const two = sparseQueryVector('winter storms');
    expect(two.indices).toEqual([termIndex('winter'), termIndex('storm')].sort((a, b) => a - b));
    expect(two.values).toEqual([1, 1]);
    expect(sparseQueryVector('the of and')).toEqual({ indices: [], values: [] });
    expect(sparseQueryVector('في من على')).toEqual({ indices: [], values: [] });
  });

  it('analyses documents and queries alike, in Arabic and English', () => {
    const doc = sparseDocumentVector({ title: 'المكتبات والكُتّاب', body: 'Running libraries' });
    for (const word of ['مكتبات', 'الكتاب', 'run', 'library']) {
      const [index] = sparseQueryVector(word).indices;
      expect(doc.indices, word).toContain(index);
    }
  });

  it('weights terms by BM25 term frequency over the weighted length', () => {
    const body = 'storm storm storm gale';
    const doc = sparseDocumentVector({ title: 'Coast', body });
    const length = FIELD_WEIGHTS.title + 4 * FIELD_WEIGHTS.body;
    expect(weight(doc, 'storm')).toBeCloseTo(bm25(3, length), 6);
    expect(weight(doc, 'gale')).toBeCloseTo(bm25(1, length), 6);
    expect(weight(doc, 'coast')).toBeCloseTo(bm25(FIELD_WEIGHTS.title, length), 6);
    // Saturating: three times the frequency is far from three times the weight.
    expect(weight(doc, 'storm') / weight(doc, 'gale')).toBeLessThan(2);
    expect(weight(doc, 'storm')).toBeLessThan(2.2);
  });

  it('ranks a title word above the same word in the summary, and that above the body', () => {
    const inTitle = sparseDocumentVector({ title: 'Storm', summary: 'Harbour', body: 'Coast' });
    const inSummary = sparseDocumentVector({ title: 'Harbour', summary: 'Storm', body: 'Coast' });
    const inBody = sparseDocumentVector({ title: 'Harbour', summary: 'Coast', body: 'Storm' });
    expect(weight(inTitle, 'storm')).toBeGreaterThan(weight(inSummary, 'storm'));
    expect(weight(inSummary, 'storm')).toBeGreaterThan(weight(inBody, 'storm'));
  });

  it('normalises by length: the same word weighs less in a longer document', () => {
    const short = sparseDocumentVector({ title: 'Storm', body: 'gale' });
    const long = sparseDocumentVector({
      title: 'Storm',
      body: Array.from({ length: 200 }, (_, i) => `word${i}`).join(' '),
    });
    expect(weight(long, 'storm')).toBeLessThan(weight(short, 'storm'));
  });

  it('hashes terms into 31 bits, the same term to the same index', () => {
    const terms = ['storm', 'مكتب', '2026', 'x'.repeat(300)];
    for (const term of terms) {
      expect(termIndex(term)).toBe(termIndex(term));
      expect(termIndex(term)).toBeGreaterThanOrEqual(0);
      expect(termIndex(term)).toBeLessThan(2 ** 31);
    }
    expect(new Set(terms.map(termIndex)).size).toBe(terms.length);
  });

  it('gives an empty document no terms', () => {
    expect(sparseDocumentVector({ title: '', summary: null, body: '' })).toEqual({
      indices: [],
      values: [],
    });
  });
});
