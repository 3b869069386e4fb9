import type { Lang } from '../analyze.ts';
import { Lexicon } from '../lexicon.ts';
import { ARABIC_STEMS } from './ar.ts';
import { ENGLISH_STEMS } from './en.ts';

const built = new Map<Lang, Lexicon>();

/**
 * The lexicon of `lang` (Debian's word lists, stemmed: `tools/text/build-lexicons.ts`), built on
 * first use and kept for the isolate: a set of 35,000 (English) or 73,000 (Arabic) stems, a few
 * megabytes of memory, built in tens of milliseconds the first time a query has a word its
 * organisation's corpus does not know.
 */
export function languageLexicon(lang: Lang): Lexicon {
  let lexicon = built.get(lang);
  if (!lexicon) {
    lexicon = new Lexicon((lang === 'ar' ? ARABIC_STEMS : ENGLISH_STEMS).split(/\s+/));
    built.set(lang, lexicon);
  }
  return lexicon;
}
