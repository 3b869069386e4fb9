import { createMemory, instantiateKernel, type Kernel, STRIDE_ALIGN_BYTES } from './simd.ts';

const PAGE = 65536;
const FLOATS_PER_STEP = STRIDE_ALIGN_BYTES / 4;

/**
 * Dense rows of one namespace in a WebAssembly memory, laid out for the SIMD kernel:
 *
 *   [ rows: capacity × stride bytes | query: stride bytes | raw scores: capacity × 4 bytes ]
 *
 * Each row is the vector padded with zeros to a multiple of eight floats. Growing doubles the
 * capacity in place: rows stay at offset 0 and the scratch regions (query, scores) simply move
 * past them, so no row is ever copied. Inverse norms are kept per row for cosine; they come
 * from the same kernel as query scores, so a vector compared with itself scores exactly 1.
 */
export class DenseMatrix {
  readonly dimension: number;
  /** Row length in floats (dimension rounded up to the kernel's step). */
  readonly stride: number;
  private readonly strideBytes: number;
  private capacity = 0;
  private kernel: Kernel;
  private floats!: Float32Array;
  // Float64: a float32 inverse norm would cost cosine scores their last digits.
  invNorms = new Float64Array(0);

  constructor(dimension: number, capacity = 16) {
    this.dimension = dimension;
    this.stride = Math.max(
      FLOATS_PER_STEP,
      Math.ceil(dimension / FLOATS_PER_STEP) * FLOATS_PER_STEP,
    );
    this.strideBytes = this.stride * 4;
    this.kernel = instantiateKernel(createMemory());
    this.grow(capacity);
  }

  private get queryOffset(): number {
    return this.capacity * this.strideBytes;
  }

  private get scoresOffset(): number {
    return this.queryOffset + this.strideBytes;
  }

  ensureCapacity(rows: number): void {
    if (rows <= this.capacity) return;
    let capacity = Math.max(16, this.capacity);
    while (capacity < rows) capacity *= 2;
    this.grow(capacity);
  }

  private grow(capacity: number): void {
    const bytes = capacity * this.strideBytes + this.strideBytes + capacity * 4;
    const memory = this.kernel.memory;
    const pages = Math.ceil(bytes / PAGE);
    const current = memory.buffer.byteLength / PAGE;
    if (pages > current) memory.grow(pages - current);
    this.capacity = capacity;
    // Growing detaches the old buffer, so views are rebuilt.
    this.floats = new Float32Array(memory.buffer);
    const norms = new Float64Array(capacity);
    norms.set(this.invNorms.subarray(0, Math.min(this.invNorms.length, capacity)));
    this.invNorms = norms;
  }

  /** The vector in a row (a view: do not keep it across writes). */
  row(slot: number): Float32Array {
    const start = slot * this.stride;
    return this.floats.subarray(start, start + this.dimension);
  }

  set(slot: number, vector: Float32Array): void {
    const start = slot * this.stride;
    this.floats.set(vector, start);
    this.floats.fill(0, start + this.dimension, start + this.stride);
    const selfDot = this.rawDot(slot * this.strideBytes, slot * this.strideBytes);
    this.invNorms[slot] = selfDot > 0 ? 1 / Math.sqrt(selfDot) : 0;
  }

  /** Copies row `from` over row `to` (swap-remove on delete). */
  move(from: number, to: number): void {
    this.floats.copyWithin(to * this.stride, from * this.stride, (from + 1) * this.stride);
    this.invNorms[to] = this.invNorms[from] as number;
  }

  /**
   * Raw kernel values for `query` against rows: dot products, or squared distances when `l2`.
   * With `rows`, only those slots are computed. Returns the scores view (index = slot) and the
   * query's own dot product; both are valid until the next call.
   */
  rawScores(
    query: Float32Array,
    count: number,
    l2: boolean,
    rows?: Int32Array,
  ): { scores: Float32Array; querySelfDot: number } {
    const q = this.queryOffset;
    this.floats.set(query, q / 4);
    this.floats.fill(0, q / 4 + this.dimension, q / 4 + this.stride);
    const querySelfDot = this.rawDot(q, q);
    const out = this.scoresOffset;
    const kernel = l2 ? this.kernel.l2 : this.kernel.dot;
    if (!rows) kernel(q, 0, count, this.strideBytes, out);
    else {
      for (const slot of rows)
        kernel(q, slot * this.strideBytes, 1, this.strideBytes, out + slot * 4);
    }
    return { scores: this.floats.subarray(out / 4, out / 4 + this.capacity), querySelfDot };
  }

  private rawDot(a: number, b: number): number {
    const out = this.scoresOffset;
    this.kernel.dot(a, b, 1, this.strideBytes, out);
    return this.floats[out / 4] as number;
  }

  /** The first `count` rows, unpadded, for persistence. */
  snapshot(count: number): Float32Array {
    const out = new Float32Array(count * this.dimension);
    for (let slot = 0; slot < count; slot++) out.set(this.row(slot), slot * this.dimension);
    return out;
  }
}
