import { analyzeTokens, type Lang } from '../text/analyze.ts';

/**
 * Keywords per topic and language by class-based TF-IDF (c-TF-IDF, as BERTopic computes it):
 * the texts of a topic's members are one document per topic (a class), and a term weighs
 *
 *   tf(t, c) × log(1 + A / f(t))
 *
 * with tf(t, c) the term's share of the class's terms, f(t) its count over all classes and A the
 * average number of terms per class: a word frequent in one topic and rare in the others ranks
 * first. Terms are Sift's own search terms (`shared/text/analyze.ts`: normalised, stop words
 * out, Arabic light stemming and English Porter2), counted per language by script, so Arabic
 * and English keywords are ranked apart; each keyword is shown as the word form that was most
 * frequent for its stem in the topic (`panels`, not `panel`), not as the stem. Words shorter than
 * two letters and numbers are left out.
 */

/** How many keywords per language a topic keeps. */
export const KEYWORDS_PER_LANGUAGE = 8;

export type TopicKeywords = Record<Lang, string[]>;

type Counts = {
  terms: Map<string, number>;
  forms: Map<string, Map<string, number>>;
  total: number;
};

const countsOf = (): Record<Lang, Counts> => ({
  ar: { terms: new Map(), forms: new Map(), total: 0 },
  en: { terms: new Map(), forms: new Map(), total: 0 },
});

const NUMBER = /^\p{N}+$/u;

/**
 * The keywords of each topic: `texts` maps a topic id to its members' texts (titles and
 * summaries). Deterministic: ties break by the term.
 */
export function topicKeywords(
  texts: ReadonlyMap<string, readonly string[]>,
  perLanguage = KEYWORDS_PER_LANGUAGE,
): Map<string, TopicKeywords> {
  const classes = new Map<string, Record<Lang, Counts>>();
  const overall: Record<Lang, Map<string, number>> = { ar: new Map(), en: new Map() };
  for (const [topic, docs] of texts) {
    const counts = countsOf();
    for (const doc of docs) {
      for (const token of analyzeTokens(doc)) {
        if (!token.lang || token.stem.length < 2 || NUMBER.test(token.term)) continue;
        const c = counts[token.lang];
        c.terms.set(token.stem, (c.terms.get(token.stem) ?? 0) + 1);
        c.total++;
        const forms = c.forms.get(token.stem) ?? new Map<string, number>();
        forms.set(token.term, (forms.get(token.term) ?? 0) + 1);
        c.forms.set(token.stem, forms);
        overall[token.lang].set(token.stem, (overall[token.lang].get(token.stem) ?? 0) + 1);
      }
    }
    classes.set(topic, counts);
  }
  const out = new Map<string, TopicKeywords>();
  const langs: Lang[] = ['ar', 'en'];
  const average = Object.fromEntries(
    langs.map((lang) => {
      const totals = [...classes.values()].map((c) => c[lang].total).filter((n) => n > 0);
      return [lang, totals.length ? totals.reduce((a, b) => a + b, 0) / totals.length : 0];
    }),
  ) as Record<Lang, number>;
  for (const [topic, counts] of classes) {
    const keywords = { ar: [], en: [] } as TopicKeywords;
    for (const lang of langs) {
      const c = counts[lang];
      if (c.total === 0) continue;
      keywords[lang] = [...c.terms]
        .map(([stem, n]) => ({
          stem,
          weight: (n / c.total) * Math.log(1 + average[lang] / (overall[lang].get(stem) ?? 1)),
        }))
        .sort((a, b) => b.weight - a.weight || (a.stem < b.stem ? -1 : 1))
        .slice(0, perLanguage)
        .map(({ stem }) => mostFrequent(c.forms.get(stem)!));
    }
    out.set(topic, keywords);
  }
  return out;
}

function mostFrequent(forms: Map<string, number>): string {
  let best = '';
  let count = -1;
  for (const [form, n] of forms) {
    if (n > count || (n === count && form < best)) {
      best = form;
      count = n;
    }
  }
  return best;
}
