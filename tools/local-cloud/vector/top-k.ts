/**
 * Keeps the `k` best (highest-scoring) slots seen so far in a binary min-heap over typed arrays,
 * so a scan over N rows costs O(N log k) with no allocation per row. `threshold` is the score a
 * new row must beat to enter, which lets callers skip work (a filter, say) for rows that could
 * not make it anyway.
 */
export class TopK {
  readonly k: number;
  size = 0;
  private readonly scores: Float64Array;
  private readonly slots: Int32Array;

  constructor(k: number) {
    this.k = Math.max(0, Math.floor(k));
    this.scores = new Float64Array(this.k);
    this.slots = new Int32Array(this.k);
  }

  /** The score a row must exceed to be kept; -Infinity until the heap is full. */
  get threshold(): number {
    return this.size < this.k ? Number.NEGATIVE_INFINITY : (this.scores[0] as number);
  }

  /** Offers a row; ties with the current minimum are not taken (first seen wins). */
  push(slot: number, score: number): void {
    if (this.k === 0) return;
    if (this.size < this.k) {
      let i = this.size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if ((this.scores[parent] as number) <= score) break;
        this.scores[i] = this.scores[parent] as number;
        this.slots[i] = this.slots[parent] as number;
        i = parent;
      }
      this.scores[i] = score;
      this.slots[i] = slot;
      return;
    }
    if (score <= (this.scores[0] as number)) return;
    // Replace the root and sift down.
    let i = 0;
    const n = this.size;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child =
        right < n && (this.scores[right] as number) < (this.scores[left] as number) ? right : left;
      if ((this.scores[child] as number) >= score) break;
      this.scores[i] = this.scores[child] as number;
      this.slots[i] = this.slots[child] as number;
      i = child;
    }
    this.scores[i] = score;
    this.slots[i] = slot;
  }

  /** The kept rows, best first. */
  sorted(): { slot: number; score: number }[] {
    const out: { slot: number; score: number }[] = [];
    for (let i = 0; i < this.size; i++) {
      out.push({ slot: this.slots[i] as number, score: this.scores[i] as number });
    }
    return out.sort((a, b) => b.score - a.score || a.slot - b.slot);
  }
}
