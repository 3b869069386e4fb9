import { fmix32, hashString } from '../embeddings/local.ts';
import { analyze } from '../text/analyze.ts';

/**
 * Sparse (BM25) vectors of Sift's own text analysis (`shared/text/analyze.ts`), so that the index
 * and the queries go through the same normalisation, stop words and stemmers (Porter2 for
 * English, light10 for Arabic) as did-you-mean, synonyms and highlighting.
 *
 * A term's dimension is a 31-bit hash of its stem. A document carries the term-frequency part of
 * BM25 (k1 = 1.2, b = 0.75), over fields weighted as in BM25F: a word of the title counts
 * {@link FIELD_WEIGHTS}.title times, one of the summary .summary times. A query carries 1 per
 * distinct term; the index multiplies in each term's IDF from the namespace's document
 * frequencies at query time (`weightingStrategy: IDF`), so the score is BM25.
 */
export type SparseVector = { indices: number[]; values: number[] };

/** Bump when terms, hashing or weights change: vectors of two versions do not compare. */
export const SPARSE_MODEL = 'sift-bm25f-v1';

const K1 = 1.2;
const B = 0.75;
/**
 * The document length (weighted terms, stop words out) that BM25 treats as average: the constant
 * of Upstash's hosted BM25 model, so that a document's vector does not change as the collection
 * grows. Only the ratio between two documents' lengths moves their order; a larger constant
 * weakens length normalisation (on CISI, whose documents average 72 terms, BM25 computed
 * offline ranked best with 32 of 32 to 256: NDCG@10 0.356 against 0.290 at 256).
 */
export const AVERAGE_DOCUMENT_LENGTH = 32;

/** How many times a term of each field counts. Title above summary above body, as in Postgres. */
export const FIELD_WEIGHTS = { title: 2, summary: 1.5, body: 1 } as const;

const SEED = 0x5f3759df;

/** The dimension of a stemmed term. */
export function termIndex(term: string): number {
  return fmix32(hashString(term, SEED)) & 0x7fffffff;
}

export type DocumentFields = { title: string; summary?: string | null; body?: string | null };

/** The sparse vector of a document: BM25F term-frequency weights per stemmed term. */
export function sparseDocumentVector(fields: DocumentFields): SparseVector {
  const frequencies = new Map<number, number>();
  let length = 0;
  const add = (text: string | null | undefined, weight: number) => {
    if (!text) return;
    for (const term of analyze(text)) {
      const index = termIndex(term);
      frequencies.set(index, (frequencies.get(index) ?? 0) + weight);
      length += weight;
    }
  };
  add(fields.title, FIELD_WEIGHTS.title);
  add(fields.summary, FIELD_WEIGHTS.summary);
  add(fields.body, FIELD_WEIGHTS.body);
  const norm = K1 * (1 - B + (B * length) / AVERAGE_DOCUMENT_LENGTH);
  return toSparse(frequencies, (tf) => (tf * (K1 + 1)) / (tf + norm));
}

/** The sparse vector of a query: 1 per distinct stemmed term (empty when none is left). */
export function sparseQueryVector(text: string): SparseVector {
  const terms = new Map<number, number>();
  for (const term of analyze(text)) terms.set(termIndex(term), 1);
  return toSparse(terms, (value) => value);
}

function toSparse(terms: Map<number, number>, weight: (value: number) => number): SparseVector {
  const indices = [...terms.keys()].sort((a, b) => a - b);
  return { indices, values: indices.map((i) => weight(terms.get(i) as number)) };
}
