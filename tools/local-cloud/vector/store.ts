import { DenseMatrix } from './dense-matrix.ts';
import type { Metadata, MetadataPredicate } from './filter.ts';
import { TopK } from './top-k.ts';

export type Similarity = 'COSINE' | 'EUCLIDEAN' | 'DOT_PRODUCT';

/** A sparse vector with strictly increasing indices. */
export type SparseVector = { indices: Int32Array; values: Float32Array };

export type VectorRecord = {
  readonly id: string;
  /** Insertion order, stable across updates; range cursors are built on it. */
  seq: number;
  /** Row in the namespace's dense matrix (and position in `records`); moves on deletes. */
  slot: number;
  metadata: Metadata | undefined;
  data: string | undefined;
  sparse: SparseVector | undefined;
  /** Serialised size of metadata, data and sparse vector, for `info().indexSize`. */
  bytes: number;
};

export type Hit = { record: VectorRecord; score: number };

export type RecordInput = {
  dense?: Float32Array;
  sparse?: SparseVector;
  metadata?: Metadata;
  data?: string;
};

// Below this many rows, or above this estimated filter selectivity, a filtered query checks the
// filter lazily (only on rows that could enter the top-K); otherwise it pre-filters and scores
// only the matching rows.
const PREFILTER_MIN_ROWS = 2048;
const PREFILTER_SAMPLE = 256;
const PREFILTER_MAX_SELECTIVITY = 0.3;

/**
 * One namespace of an index. Dense vectors live in a `DenseMatrix` (contiguous rows scanned by
 * a SIMD kernel; deletes swap the last row into the hole), so a query is one linear pass plus a
 * small heap. Sparse vectors are also kept in an inverted index (dimension → record → value) so
 * a sparse query only touches records sharing a dimension with it.
 */
export class Namespace {
  readonly dimension: number;
  private matrix: DenseMatrix | undefined;
  private records: VectorRecord[] = [];
  private readonly byId = new Map<string, VectorRecord>();
  private readonly postings = new Map<number, Map<VectorRecord, number>>();
  private nextSeq = 1;
  private denseBytes = 0;
  private otherBytes = 0;

  constructor(dimension: number, capacity = 16) {
    this.dimension = dimension;
    this.matrix = dimension > 0 ? new DenseMatrix(dimension, capacity) : undefined;
  }

  get count(): number {
    return this.records.length;
  }

  /** Approximate bytes held: 4 per dense component plus serialised metadata, data and sparse. */
  get sizeBytes(): number {
    return this.denseBytes + this.otherBytes;
  }

  get(id: string): VectorRecord | undefined {
    return this.byId.get(id);
  }

  /** Records in insertion order (the order `range` walks). */
  values(): IterableIterator<VectorRecord> {
    return this.byId.values();
  }

  /** A record's dense vector (a view: copy it before the next write). */
  dense(record: VectorRecord): Float32Array {
    return this.matrix ? this.matrix.row(record.slot) : new Float32Array(0);
  }

  /** Inserts or fully replaces a record. */
  upsert(id: string, input: RecordInput): VectorRecord {
    let record = this.byId.get(id);
    if (!record) {
      const slot = this.records.length;
      this.matrix?.ensureCapacity(slot + 1);
      record = {
        id,
        seq: this.nextSeq++,
        slot,
        metadata: undefined,
        data: undefined,
        sparse: undefined,
        bytes: 0,
      };
      this.records.push(record);
      this.byId.set(id, record);
      this.denseBytes += this.dimension * 4;
    }
    this.setDense(record, input.dense ?? new Float32Array(this.dimension));
    this.setSparse(record, input.sparse);
    record.metadata = input.metadata;
    record.data = input.data;
    this.remeasure(record);
    return record;
  }

  setDense(record: VectorRecord, vector: Float32Array): void {
    this.matrix?.set(record.slot, vector);
  }

  setSparse(record: VectorRecord, sparse: SparseVector | undefined): void {
    if (record.sparse) {
      for (const index of record.sparse.indices) {
        const posting = this.postings.get(index);
        posting?.delete(record);
        if (posting?.size === 0) this.postings.delete(index);
      }
    }
    record.sparse = sparse;
    if (!sparse) return;
    for (let i = 0; i < sparse.indices.length; i++) {
      const index = sparse.indices[i] as number;
      let posting = this.postings.get(index);
      if (!posting) {
        posting = new Map();
        this.postings.set(index, posting);
      }
      posting.set(record, sparse.values[i] as number);
    }
  }

  /** Recomputes a record's byte estimate after its metadata, data or sparse vector changed. */
  remeasure(record: VectorRecord): void {
    this.otherBytes -= record.bytes;
    record.bytes =
      (record.metadata ? JSON.stringify(record.metadata).length : 0) +
      (record.data?.length ?? 0) +
      (record.sparse ? record.sparse.indices.length * 8 : 0) +
      record.id.length;
    this.otherBytes += record.bytes;
  }

  delete(id: string): boolean {
    const record = this.byId.get(id);
    if (!record) return false;
    this.setSparse(record, undefined);
    this.otherBytes -= record.bytes;
    this.denseBytes -= this.dimension * 4;
    this.byId.delete(id);
    const last = this.records.pop() as VectorRecord;
    if (last !== record) {
      // Move the last row into the hole so the matrix stays contiguous.
      this.matrix?.move(last.slot, record.slot);
      last.slot = record.slot;
      this.records[record.slot] = last;
    }
    return true;
  }

  clear(): void {
    this.records = [];
    this.byId.clear();
    this.postings.clear();
    this.denseBytes = 0;
    this.otherBytes = 0;
    this.matrix = this.dimension > 0 ? new DenseMatrix(this.dimension) : undefined;
  }

  /**
   * Exact top-K over the dense rows. Scores are Upstash's normalised ones: cosine and dot
   * product (1 + x) / 2, euclidean 1 / (1 + squared distance). With a filter, rows are
   * pre-filtered when a sample says few match; otherwise the filter is only evaluated for rows
   * whose score would enter the current top-K.
   */
  searchDense(
    query: Float32Array,
    similarity: Similarity,
    k: number,
    predicate?: MetadataPredicate,
  ): Hit[] {
    const heap = new TopK(k);
    const n = this.records.length;
    const matrix = this.matrix;
    if (!matrix || n === 0 || heap.k === 0) return [];
    let rows: Int32Array | undefined;
    let lazy = predicate;
    if (
      predicate &&
      n >= PREFILTER_MIN_ROWS &&
      this.estimateSelectivity(predicate) <= PREFILTER_MAX_SELECTIVITY
    ) {
      rows = this.matchingRows(predicate);
      lazy = undefined;
    }
    const euclidean = similarity === 'EUCLIDEAN';
    const cosine = similarity === 'COSINE';
    const { scores, querySelfDot } = matrix.rawScores(query, n, euclidean, rows);
    const qInv = querySelfDot > 0 ? 1 / Math.sqrt(querySelfDot) : 0;
    const norms = matrix.invNorms;
    const records = this.records;
    const limit = rows ? rows.length : n;
    let threshold = heap.threshold;
    for (let r = 0; r < limit; r++) {
      const slot = rows ? (rows[r] as number) : r;
      const raw = scores[slot] as number;
      const score = euclidean
        ? 1 / (1 + raw)
        : (1 + (cosine ? raw * qInv * (norms[slot] as number) : raw)) / 2;
      if (score > threshold) {
        if (lazy && !lazy((records[slot] as VectorRecord).metadata)) continue;
        heap.push(slot, score);
        threshold = heap.threshold;
      }
    }
    return heap
      .sorted()
      .map(({ slot, score }) => ({ record: records[slot] as VectorRecord, score }));
  }

  private estimateSelectivity(predicate: MetadataPredicate): number {
    const n = this.records.length;
    const step = n / PREFILTER_SAMPLE;
    let hits = 0;
    for (let i = 0; i < PREFILTER_SAMPLE; i++) {
      const record = this.records[Math.floor(i * step)] as VectorRecord;
      if (predicate(record.metadata)) hits++;
    }
    return hits / PREFILTER_SAMPLE;
  }

  private matchingRows(predicate: MetadataPredicate): Int32Array {
    const rows = new Int32Array(this.records.length);
    let count = 0;
    for (const record of this.records) if (predicate(record.metadata)) rows[count++] = record.slot;
    return rows.subarray(0, count);
  }

  /**
   * Exact top-K by inner product over matching sparse dimensions; records sharing no dimension
   * with the query are not candidates. With `idf`, each query value is weighted by
   * ln((N - n + 0.5) / (n + 0.5) + 1), as the SDK documents `WeightingStrategy.IDF` (the `+ 1`
   * keeps a term found in most documents positive, as in Lucene's BM25).
   */
  searchSparse(query: SparseVector, k: number, idf: boolean, predicate?: MetadataPredicate): Hit[] {
    const scores = new Map<VectorRecord, number>();
    const total = this.records.length;
    for (let i = 0; i < query.indices.length; i++) {
      const posting = this.postings.get(query.indices[i] as number);
      if (!posting) continue;
      let weight = query.values[i] as number;
      if (idf) weight *= Math.log((total - posting.size + 0.5) / (posting.size + 0.5) + 1);
      for (const [record, value] of posting) {
        scores.set(record, (scores.get(record) ?? 0) + weight * value);
      }
    }
    const heap = new TopK(k);
    for (const [record, score] of scores) {
      if (score <= heap.threshold) continue;
      if (predicate && !predicate(record.metadata)) continue;
      heap.push(record.slot, score);
    }
    return heap
      .sorted()
      .map(({ slot, score }) => ({ record: this.records[slot] as VectorRecord, score }));
  }

  /** Records matching a predicate, in insertion order. */
  filter(predicate: MetadataPredicate): VectorRecord[] {
    const out: VectorRecord[] = [];
    for (const record of this.byId.values()) if (predicate(record.metadata)) out.push(record);
    return out;
  }

  /** A copy of the live dense rows, unpadded and in slot order, for persistence. */
  denseSnapshot(): Float32Array {
    return this.matrix ? this.matrix.snapshot(this.records.length) : new Float32Array(0);
  }

  /** Restores a record at the next slot with a known sequence number (loading from disk). */
  restore(id: string, seq: number, input: RecordInput): VectorRecord {
    const record = this.upsert(id, input);
    record.seq = seq;
    this.nextSeq = Math.max(this.nextSeq, seq + 1);
    return record;
  }
}
