import { detectLanguage, ENGLISH_STOP_WORDS, tokenize } from '../text/analyze.ts';
import type { DocumentLanguage } from './types.ts';

/**
 * Scripts counted, with the language a script alone implies (`undefined`: shared by several
 * languages, so the code stays `und`). Arabic and Latin are refined below.
 */
const SCRIPTS: readonly { script: string; pattern: RegExp; code?: string }[] = [
  { script: 'Arab', pattern: /\p{sc=Arabic}/u, code: 'ar' },
  { script: 'Latn', pattern: /\p{sc=Latin}/u },
  { script: 'Cyrl', pattern: /\p{sc=Cyrillic}/u },
  { script: 'Grek', pattern: /\p{sc=Greek}/u, code: 'el' },
  { script: 'Hebr', pattern: /\p{sc=Hebrew}/u, code: 'he' },
  { script: 'Deva', pattern: /\p{sc=Devanagari}/u },
  { script: 'Thai', pattern: /\p{sc=Thai}/u, code: 'th' },
  { script: 'Hang', pattern: /\p{sc=Hangul}/u, code: 'ko' },
  { script: 'Jpan', pattern: /[\p{sc=Hiragana}\p{sc=Katakana}]/u, code: 'ja' },
  { script: 'Hani', pattern: /\p{sc=Han}/u, code: 'zh' },
  { script: 'Armn', pattern: /\p{sc=Armenian}/u, code: 'hy' },
  { script: 'Geor', pattern: /\p{sc=Georgian}/u, code: 'ka' },
  { script: 'Ethi', pattern: /\p{sc=Ethiopic}/u, code: 'am' },
];

/** Letters only the Persian and the Urdu alphabets add to Arabic's. */
const PERSIAN_LETTERS = /[پچژگکی]/gu;
const URDU_LETTERS = /[ٹڈڑںےھ]/gu;

/** Letters sampled: a document's language shows in its first 200,000 letters. */
const SAMPLE_CHARS = 200_000;
/** English stop words are ~40% of English running text; under this share, Latin text is not. */
const ENGLISH_STOP_SHARE = 0.15;

/**
 * A document's language by the scripts of its letters (the first 200,000 characters): the
 * script with the most letters wins; Arabic script is Arabic (`ar`) unless the letters only
 * Persian or Urdu add are frequent (`fa`, `ur`); Latin script is English (`en`) when English stop
 * words (Sift's analysers' list) make at least 15% of its words, else `und`; scripts one language
 * owns give that language (`el`, `he`, `th`, `ko`, `ja` when kana appear, else `zh` for Han…).
 * Confidence is the winning script's share of letters, halved for a Latin text not found English.
 * Mixed Arabic/English text ties to Arabic, as Sift's search analyser does.
 */
export function detectDocumentLanguage(text: string): DocumentLanguage {
  const sample = text.length > SAMPLE_CHARS ? text.slice(0, SAMPLE_CHARS) : text;
  const counts = new Map<string, number>();
  let letters = 0;
  for (const char of sample) {
    if (!/\p{L}/u.test(char)) continue;
    letters++;
    for (const { script, pattern } of SCRIPTS) {
      if (pattern.test(char)) {
        counts.set(script, (counts.get(script) ?? 0) + 1);
        break;
      }
    }
  }
  if (letters === 0) return { code: 'und', script: 'Zyyy', confidence: 0 };
  // Kana make a text Japanese even where Han letters outnumber them.
  if ((counts.get('Jpan') ?? 0) > 0) {
    counts.set('Jpan', (counts.get('Jpan') ?? 0) + (counts.get('Hani') ?? 0));
    counts.delete('Hani');
  }
  let best: string | undefined;
  let bestCount = 0;
  for (const { script } of SCRIPTS) {
    const count = counts.get(script) ?? 0;
    if (count > bestCount) [best, bestCount] = [script, count];
  }
  if (best === undefined) return { code: 'und', script: 'Zzzz', confidence: 0 };
  // Sift's own rule for Arabic against Latin (ties go to Arabic).
  if (best === 'Latn' && detectLanguage(sample) === 'ar') {
    [best, bestCount] = ['Arab', counts.get('Arab') ?? 0];
  }
  const share = round(bestCount / letters);
  const entry = SCRIPTS.find((s) => s.script === best);
  if (best === 'Arab') {
    const persian = sample.match(PERSIAN_LETTERS)?.length ?? 0;
    const urdu = sample.match(URDU_LETTERS)?.length ?? 0;
    // ی and ک are common in Persian running text (a few per cent); Arabic has none.
    if (urdu > bestCount * 0.01)
      return { code: 'ur', script: best, confidence: round(share * 0.8) };
    if (persian > bestCount * 0.02)
      return { code: 'fa', script: best, confidence: round(share * 0.8) };
    return { code: 'ar', script: best, confidence: share };
  }
  if (best === 'Latn') {
    const words = tokenize(sample).filter((t) => /\p{sc=Latin}/u.test(t.term));
    const stops = words.filter((t) => ENGLISH_STOP_WORDS.has(t.term)).length;
    return words.length > 0 && stops / words.length >= ENGLISH_STOP_SHARE
      ? { code: 'en', script: best, confidence: share }
      : { code: 'und', script: best, confidence: round(share / 2) };
  }
  return {
    code: entry?.code ?? 'und',
    script: best,
    confidence: entry?.code ? share : round(share / 2),
  };
}

const round = (n: number) => Math.round(n * 1000) / 1000;
