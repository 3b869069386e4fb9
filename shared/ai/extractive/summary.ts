import type { Sentence, Span } from './text.ts';

/** A summary made of the input's own sentences, in document order, with where each one is. */
export type ExtractiveSummary = { text: string; spans: Span[] };

/** Sentences each summary length takes at most (short takes 2 only from longer documents). */
export const SUMMARY_SENTENCES = { short: 2, medium: 5, detailed: 10 } as const;

const DAMPING = 0.85;
const MAX_ITERATIONS = 100;
const TOLERANCE = 1e-6;
/**
 * Candidates ranked at most: the graph has a weight per pair, so the cost grows with the square
 * of the count; a summary of a very long document is drawn from its first this many sentences
 * (some 25 pages of prose).
 */
export const MAX_RANKED_SENTENCES = 600;
/** Sentences shorter than this (content words) are not picked while longer ones remain. */
const MIN_CONTENT_WORDS = 4;

/**
 * TextRank (Mihalcea and Tarau, 2004) over sentences: a graph whose edges weigh how many stems
 * two sentences share, normalised by their lengths (`|Si ∩ Sj| / (ln|Si| + ln|Sj|)`), ranked by
 * weighted PageRank (damping 0.85, iterated until no score moves by more than 1e-6). Headings
 * and labelled metadata lines (`Attendees: …`) are not candidates. Ties go to the earlier sentence, so the ranking is deterministic.
 * Returns the candidates' indexes, best first.
 */
export function rankSentences(sentences: readonly Sentence[]): number[] {
  const candidates = sentences
    .filter((s) => !s.heading && !s.meta && s.stems.length > 0)
    .slice(0, MAX_RANKED_SENTENCES);
  const n = candidates.length;
  if (n === 0) return [];
  const sets = candidates.map((s) => new Set(s.stems));
  const weights: number[][] = candidates.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = sets[i] as Set<string>;
      const b = sets[j] as Set<string>;
      let shared = 0;
      for (const stem of a) if (b.has(stem)) shared++;
      if (shared === 0) continue;
      // Two one-word sentences would divide by ln 1 + ln 1 = 0: the +1 keeps the measure finite.
      const w = shared / (Math.log(a.size + 1) + Math.log(b.size + 1));
      (weights[i] as number[])[j] = w;
      (weights[j] as number[])[i] = w;
    }
  }
  const outSum = weights.map((row) => row.reduce((sum, w) => sum + w, 0));
  let scores = new Array<number>(n).fill(1 / n);
  for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
    const next = new Array<number>(n).fill((1 - DAMPING) / n);
    // A sentence sharing nothing with the others spreads its score evenly (a dangling node).
    let dangling = 0;
    for (let j = 0; j < n; j++) if (outSum[j] === 0) dangling += scores[j] as number;
    for (let i = 0; i < n; i++) {
      let sum = dangling / n;
      const row = weights[i] as number[];
      for (let j = 0; j < n; j++) {
        const w = row[j] as number;
        if (w > 0) sum += (w / (outSum[j] as number)) * (scores[j] as number);
      }
      next[i] = (next[i] as number) + DAMPING * sum;
    }
    const moved = next.reduce(
      (max, value, i) => Math.max(max, Math.abs(value - (scores[i] as number))),
      0,
    );
    scores = next;
    if (moved < TOLERANCE) break;
  }
  return candidates
    .map((sentence, i) => ({
      index: sentence.index,
      score: scores[i] as number,
      short: sentence.stems.length < MIN_CONTENT_WORDS,
    }))
    .sort((a, b) => Number(a.short) - Number(b.short) || b.score - a.score || a.index - b.index)
    .map((entry) => entry.index);
}

/**
 * The three summaries from one ranking: the best `count` sentences put back in document order.
 * Short is one sentence, or two when the document has more than eight; medium five; detailed ten.
 */
export function summarise(
  sentences: readonly Sentence[],
): Record<keyof typeof SUMMARY_SENTENCES, ExtractiveSummary> {
  const ranked = rankSentences(sentences);
  const pick = (count: number): ExtractiveSummary => {
    const chosen = ranked
      .slice(0, count)
      .sort((a, b) => a - b)
      .map((i) => sentences[i] as Sentence);
    return {
      text: chosen.map((s) => s.text).join(' '),
      spans: chosen.map(({ start, end }) => ({ start, end })),
    };
  };
  return {
    short: pick(ranked.length > 8 ? SUMMARY_SENTENCES.short : 1),
    medium: pick(SUMMARY_SENTENCES.medium),
    detailed: pick(SUMMARY_SENTENCES.detailed),
  };
}
