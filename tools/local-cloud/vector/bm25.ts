import {
  fmix32,
  hashString,
  isStopWord,
  stemWord,
  tokenize,
} from '../../../shared/embeddings/local.ts';
import type { SparseVector } from './store.ts';

/**
 * Text to sparse vectors the way Upstash's hosted BM25 model is documented to: words are
 * tokenised, stop words dropped, the rest stemmed, and each distinct term becomes one dimension
 * (a 31-bit hash of the stem) weighted by the BM25 term-frequency part with k1 = 1.2, b = 0.75
 * and an assumed average document length of 32. The IDF part is applied at query time from the
 * namespace's document frequencies (`weightingStrategy: IDF`), so a query vector simply carries
 * 1 for each of its terms.
 */
export const BM25_MODEL = 'BM25';

const K1 = 1.2;
const B = 0.75;
const AVERAGE_DOCUMENT_LENGTH = 32;
const SEED = 0x6b43a9b5;

export function bm25Document(text: string): SparseVector {
  const terms = documentTerms(text);
  const length = terms.length;
  const counts = countTerms(terms);
  const norm = K1 * (1 - B + (B * length) / AVERAGE_DOCUMENT_LENGTH);
  return toSparse(counts, (tf) => (tf * (K1 + 1)) / (tf + norm));
}

export function bm25Query(text: string): SparseVector {
  return toSparse(countTerms(documentTerms(text)), () => 1);
}

function documentTerms(text: string): string[] {
  const out: string[] = [];
  for (const word of tokenize(text)) if (!isStopWord(word)) out.push(stemWord(word));
  return out;
}

function countTerms(terms: string[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const term of terms) {
    const index = fmix32(hashString(term, SEED)) & 0x7fffffff;
    counts.set(index, (counts.get(index) ?? 0) + 1);
  }
  return counts;
}

function toSparse(counts: Map<number, number>, weight: (tf: number) => number): SparseVector {
  const indices = Int32Array.from(counts.keys()).sort();
  const values = new Float32Array(indices.length);
  for (let i = 0; i < indices.length; i++)
    values[i] = weight(counts.get(indices[i] as number) as number);
  return { indices, values };
}
