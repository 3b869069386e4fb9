import { type AnalyzedToken, analyzeTokens, type Lang } from '../../text/analyze.ts';
import { foldForMatching } from './text.ts';

/** A keyphrase: its words as first written (lower-cased), its score and where it first appears. */
export type Keyphrase = { phrase: string; score: number; start: number; end: number };

/** Longest phrase, in words. */
const MAX_WORDS = 3;

/**
 * Words that carry no topic in documents like these, beyond Sift's stop words: the cue verbs and
 * modals the action and risk patterns look for, reporting words and calendar words.
 */
const EXTRA_STOP = new Set(
  (
    'must shall should will need needs please kindly also may might could would within by ' +
    'today tomorrow next week weeks month day days monday tuesday wednesday thursday friday ' +
    'saturday sunday january february march april june july august september october november ' +
    'december new per via etc agreed discussed noted team meeting item items action actions ' +
    'يجب ينبغي سوف يرجي الرجاء علي ان تم يتم خلال بحلول اليوم غدا الاسبوع الشهر القادم المقبل ' +
    'يوم ايام الاحد الاثنين الثلاثاء الاربعاء الخميس الجمعه السبت بعد قبل كما حيث اجل لقد ' +
    'وقد وتم ضروره اجتماع الاجتماع مما هناك جميع الحضور محضر لجنه اللجنه عدم'
  ).split(' '),
);

/**
 * Arabic imperfect verbs (`يشكل`, `يتعلق`, `سيقوم`): a tag names a thing, and these prefixes
 * rarely start a noun.
 */
const ARABIC_VERB = /^(?:س[يتن]|ي)\p{L}{3,}$/u;

/**
 * Keyphrases by RAKE (Rose et al., 2010) over Sift's analysers: the text is cut into candidate
 * phrases at stop words, punctuation and numbers; each word (by stem) scores its degree (how many
 * words it co-occurs with in candidates, itself included) over its frequency; a phrase scores the
 * sum of its words' scores, times `1 + ln(occurrences)` so a phrase the text repeats beats a
 * long one said once. Phrases are merged by their stems (`invoices` and `invoice` are one), the
 * best `limit` returned, ties broken by first appearance.
 */
export function extractKeyphrases(text: string, lang?: Lang, limit = 8): Keyphrase[] {
  const tokens = analyzeTokens(text, { lang, keepStopWords: true });
  const phrases: AnalyzedToken[][] = [];
  let current: AnalyzedToken[] = [];
  const close = () => {
    if (current.length > 0) phrases.push(current);
    current = [];
  };
  let previousEnd = 0;
  for (const token of tokens) {
    const gap = text.slice(previousEnd, token.start);
    previousEnd = token.end;
    if (/[^\s'’-]|\n/u.test(gap)) close();
    const blocked =
      token.stop ||
      ARABIC_VERB.test(foldForMatching(token.term).text) ||
      /^\d/u.test(token.term) ||
      token.term.length < 2 ||
      EXTRA_STOP.has(foldForMatching(token.term).text);
    if (blocked) {
      close();
      continue;
    }
    current.push(token);
    if (current.length === MAX_WORDS) close();
  }
  close();

  const frequency = new Map<string, number>();
  const degree = new Map<string, number>();
  for (const phrase of phrases) {
    for (const token of phrase) {
      frequency.set(token.stem, (frequency.get(token.stem) ?? 0) + 1);
      degree.set(token.stem, (degree.get(token.stem) ?? 0) + phrase.length);
    }
  }
  const byKey = new Map<string, { tokens: AnalyzedToken[]; count: number }>();
  for (const phrase of phrases) {
    const key = phrase.map((t) => t.stem).join(' ');
    const seen = byKey.get(key);
    if (seen) seen.count++;
    else byKey.set(key, { tokens: phrase, count: 1 });
  }
  const scored: Keyphrase[] = [];
  for (const { tokens: phrase, count } of byKey.values()) {
    let score = 0;
    for (const token of phrase) {
      score += (degree.get(token.stem) as number) / (frequency.get(token.stem) as number);
    }
    const first = phrase[0] as AnalyzedToken;
    const last = phrase.at(-1) as AnalyzedToken;
    scored.push({
      phrase: text.slice(first.start, last.end).toLowerCase(),
      score: score * (1 + Math.log(count)),
      start: first.start,
      end: last.end,
    });
  }
  scored.sort((a, b) => b.score - a.score || a.start - b.start);
  // A phrase inside a better one adds nothing (`budget` under `marketing budget`).
  const kept: Keyphrase[] = [];
  for (const candidate of scored) {
    if (kept.length === limit) break;
    if (kept.some((k) => ` ${k.phrase} `.includes(` ${candidate.phrase} `))) continue;
    kept.push(candidate);
  }
  return kept;
}
