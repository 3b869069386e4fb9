/**
 * A sorted set: member → score plus an array kept in Redis' order (score, then member bytes).
 * Binary search finds positions; inserts and removals splice, which is cheap at the sizes a REST
 * client works with and keeps rank queries O(log n).
 */
export type ZItem = { score: number; member: string };

export const zcompare = (a: ZItem, b: ZItem): number =>
  a.score < b.score
    ? -1
    : a.score > b.score
      ? 1
      : a.member < b.member
        ? -1
        : a.member > b.member
          ? 1
          : 0;

export class SortedSet {
  readonly scores = new Map<string, number>();
  readonly items: ZItem[] = [];

  get size(): number {
    return this.items.length;
  }

  /** Index of the first item not before `probe`. */
  private lowerBound(probe: ZItem): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (zcompare(this.items[mid] as ZItem, probe) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Sets a member's score; returns true when the member is new. */
  set(member: string, score: number): boolean {
    // Redis stores -0 as 0 (the score round-trips through its string form).
    if (score === 0) score = 0;
    const old = this.scores.get(member);
    if (old !== undefined) {
      if (old === score) return false;
      this.items.splice(this.lowerBound({ score: old, member }), 1);
    }
    const item = { score, member };
    this.items.splice(this.lowerBound(item), 0, item);
    this.scores.set(member, score);
    return old === undefined;
  }

  delete(member: string): boolean {
    const old = this.scores.get(member);
    if (old === undefined) return false;
    this.items.splice(this.lowerBound({ score: old, member }), 1);
    this.scores.delete(member);
    return true;
  }

  rank(member: string): number | undefined {
    const score = this.scores.get(member);
    return score === undefined ? undefined : this.lowerBound({ score, member });
  }

  /** First index whose score is above `min` (or at/above it when inclusive). */
  firstByScore(min: number, exclusive: boolean): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const s = (this.items[mid] as ZItem).score;
      if (exclusive ? s <= min : s < min) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** One past the last index whose score is below `max` (or at/below it when inclusive). */
  endByScore(max: number, exclusive: boolean): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const s = (this.items[mid] as ZItem).score;
      if (exclusive ? s < max : s <= max) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * The items of a lex range, as Redis walks them: from the first item (in score order) at or
   * above `min` while items stay at or below `max` (the reverse walk starts from the last item at
   * or below `max`). Lex ranges assume equal scores; with mixed scores this is Redis' answer too.
   */
  lexRange(min: LexBound, max: LexBound, reverse: boolean): ZItem[] {
    const items = this.items;
    const out: ZItem[] = [];
    if (!reverse) {
      const first = items.findIndex((i) => lexAboveMin(i.member, min));
      if (first < 0) return out;
      for (let j = first; j < items.length && lexBelowMax((items[j] as ZItem).member, max); j++) {
        out.push(items[j] as ZItem);
      }
      return out;
    }
    let last = items.length - 1;
    while (last >= 0 && !lexBelowMax((items[last] as ZItem).member, max)) last--;
    for (let j = last; j >= 0 && lexAboveMin((items[j] as ZItem).member, min); j--) {
      out.push(items[j] as ZItem);
    }
    return out;
  }

  /** Removes items [start, end) and returns them. */
  removeRange(start: number, end: number): ZItem[] {
    const removed = this.items.splice(start, end - start);
    for (const item of removed) this.scores.delete(item.member);
    return removed;
  }
}

/** A lex range bound: `-`, `+`, `[member` or `(member`. */
export type LexBound = { value: string; exclusive: boolean; kind: 'min' | 'max' | 'value' };

export function parseLexBound(s: string): LexBound | undefined {
  if (s === '-') return { value: '', exclusive: false, kind: 'min' };
  if (s === '+') return { value: '', exclusive: false, kind: 'max' };
  if (s.startsWith('[')) return { value: s.slice(1), exclusive: false, kind: 'value' };
  if (s.startsWith('(')) return { value: s.slice(1), exclusive: true, kind: 'value' };
  return undefined;
}

export function lexAboveMin(member: string, min: LexBound): boolean {
  if (min.kind === 'min') return true;
  if (min.kind === 'max') return false;
  return min.exclusive ? member > min.value : member >= min.value;
}

export function lexBelowMax(member: string, max: LexBound): boolean {
  if (max.kind === 'max') return true;
  if (max.kind === 'min') return false;
  return max.exclusive ? member < max.value : member <= max.value;
}
