import { analyzeTokens, type Lang } from '../../text/analyze.ts';

/** A stretch of the input, in UTF-16 units: `text.slice(start, end)`. */
export type Span = { start: number; end: number };

/**
 * The input folded for pattern matching, one character at a time so every folded character maps
 * back to the original: lower case, Arabic diacritics and tatweel dropped, `أ إ آ ٱ` → `ا`,
 * `ى` → `ي`, `ة` → `ه`, Arabic-Indic and Persian digits → ASCII. The cue patterns are written in
 * this spelling (`نهايه الاسبوع`), and `origin[i]` is where folded character `i` came from.
 */
export type Folded = { text: string; origin: number[]; source: string };

const ARABIC_MARKS = /[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]/u;
const LETTERS: Record<string, string> = { أ: 'ا', إ: 'ا', آ: 'ا', ٱ: 'ا', ى: 'ي', ة: 'ه' };

export function foldForMatching(text: string): Folded {
  let out = '';
  const origin: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ARABIC_MARKS.test(ch)) continue;
    const code = ch.charCodeAt(0);
    let folded: string;
    if (code >= 0x660 && code <= 0x669) folded = String(code - 0x660);
    else if (code >= 0x6f0 && code <= 0x6f9) folded = String(code - 0x6f0);
    else folded = LETTERS[ch] ?? ch.toLowerCase();
    // toLowerCase keeps the length of everything but a few letters (İ): those stay as they are.
    if (folded.length !== 1) folded = ch;
    out += folded;
    origin.push(i);
  }
  return { text: out, origin, source: text };
}

/** The original span of folded characters `[start, end)`. */
export function originalSpan(folded: Folded, start: number, end: number): Span {
  const from = folded.origin[start] ?? folded.origin.length;
  const last = folded.origin[Math.max(start, end - 1)];
  return { start: from, end: last === undefined ? from : last + 1 };
}

/** Where a sentence sits: a heading's kind applies to the lines under it. */
export type SectionKind = 'actions' | 'risks' | 'other' | 'none';

/** One sentence (or list item, or heading) of the input. */
export type Sentence = Span & {
  /** The sentence as written (list markers excluded). */
  text: string;
  index: number;
  /** A short line without final punctuation, or a line ending in `:`. */
  heading: boolean;
  /**
   * A labelled line such as `Attendees: …`, `From: …`, `الحضور: …`: a label of at most three
   * words, a colon, and no closing punctuation. Metadata, never a summary sentence.
   */
  meta: boolean;
  /** Started with a list marker (`-`, `*`, `•`, `1.`, `a)`). */
  listItem: boolean;
  /** The kind of the nearest heading above it (`none` before any heading). */
  section: SectionKind;
  /** Stems of its words other than stop words (Sift's analysers). */
  stems: string[];
};

/** Periods that end no sentence: titles, Latin abbreviations, initials. */
const ABBREVIATIONS = new Set([
  'mr',
  'mrs',
  'ms',
  'dr',
  'prof',
  'st',
  'jr',
  'sr',
  'vs',
  'etc',
  'inc',
  'ltd',
  'co',
  'no',
  'e.g',
  'i.e',
  'approx',
  'dept',
  'est',
  'fig',
  'jan',
  'feb',
  'mar',
  'apr',
  'jun',
  'jul',
  'aug',
  'sep',
  'sept',
  'oct',
  'nov',
  'dec',
]);

const LIST_MARKER = /^(?:[-*•▪◦–—]|\(?(?:\d{1,2}|[a-z]|[\u0660-\u0669]{1,2})[.)])\s+/u;
const HEADING_WORDS: Record<Exclude<SectionKind, 'none' | 'other'>, RegExp> = {
  actions:
    /\b(?:action items?|actions|next steps|to-?dos?|tasks|follow-?ups?|decisions and actions)\b|(?:الاجراءات|الاجراءات المطلوبه|المهام|الخطوات التاليه|بنود العمل|التكليفات|المتابعه)/u,
  risks:
    /\b(?:risks?|issues|concerns|threats|blockers)\b|(?:المخاطر|المخاطر والمشكلات|التحديات|المشكلات)/u,
};
/** Arabic comma: a sentence boundary only between two long clauses (see {@link splitSentences}). */
const MIN_CLAUSE_WORDS = 10;

/**
 * Splits `text` into sentences, located in the original: at `.` `!` `?` `؟` `۔` `…` followed by a
 * space or the end (not after an abbreviation such as `Dr.` or `e.g.`, an initial, or inside a
 * number like `3.5`), at every line break (lines are list items, headings and paragraphs alike),
 * and at an Arabic comma `،` when the clauses on both sides have at least
 * {@link MIN_CLAUSE_WORDS} words each: Arabic prose often runs several statements together with
 * commas, while a short list (`أحمد، سارة، وعمر`) stays one sentence. List markers are dropped
 * from the sentence; a short line without closing punctuation, or one ending in `:`, or the
 * first line when it has no closing punctuation (the title), is a heading, and a heading naming actions or risks (`Next steps`, `المخاطر`) labels the lines
 * under it until the next heading.
 */
export function splitSentences(text: string, lang?: Lang): Sentence[] {
  const out: Sentence[] = [];
  let section: SectionKind = 'none';
  const lines = /[^\n\r]+/gu;
  for (const line of text.matchAll(lines)) {
    let start = line.index;
    let body = line[0];
    const lead = body.length - body.trimStart().length;
    start += lead;
    body = body.trim();
    if (body === '') continue;
    const marker = LIST_MARKER.exec(body);
    const listItem = marker !== null;
    const numbered = marker !== null && /^\(?[\da-z\u0660-\u0669]/u.test(marker[0]);
    if (marker) {
      start += marker[0].length;
      body = body.slice(marker[0].length);
    }
    const pieces = splitLine(body, start);
    for (const piece of pieces) {
      const words = piece.text.split(/\s+/u).length;
      const unpunctuated = !/[.!?؟۔…]$/u.test(piece.text);
      // A numbered section title (`5. Liability`) is a list item that is still a heading, and
      // so is the document's first line when it ends without punctuation (its title).
      const heading =
        pieces.length === 1 &&
        ((!listItem && /[:：]$/u.test(piece.text) && words <= 8) ||
          (words <= (numbered ? 3 : 5) && (!listItem || numbered) && unpunctuated) ||
          (out.length === 0 && !listItem && words <= 10 && unpunctuated));
      if (heading) {
        const folded = foldForMatching(piece.text).text;
        section = HEADING_WORDS.actions.test(folded)
          ? 'actions'
          : HEADING_WORDS.risks.test(folded)
            ? 'risks'
            : 'other';
      }
      out.push({
        ...piece,
        index: out.length,
        heading,
        meta: !heading && /^[^:.!?؟]{1,30}:\s*[^.!?؟۔]*$/u.test(piece.text),
        listItem,
        section: heading ? 'none' : section,
        stems: analyzeTokens(piece.text, { lang }).map((token) => token.stem),
      });
    }
  }
  return out;
}

function splitLine(line: string, offset: number): { text: string; start: number; end: number }[] {
  const pieces: { text: string; start: number; end: number }[] = [];
  let from = 0;
  const push = (to: number) => {
    const raw = line.slice(from, to);
    const trimmed = raw.trim();
    if (trimmed !== '') {
      const lead = raw.length - raw.trimStart().length;
      pieces.push({
        text: trimmed,
        start: offset + from + lead,
        end: offset + from + lead + trimmed.length,
      });
    }
    from = to;
  };
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    const next = line[i + 1];
    const atBreak = next === undefined || /\s/u.test(next);
    if ('!?؟۔…'.includes(ch) && atBreak) {
      let end = i + 1;
      while (end < line.length && /["'”’)\]]/u.test(line[end] as string)) end++;
      push(end);
      i = end - 1;
    } else if (ch === '.' && atBreak && !abbreviationBefore(line, i)) {
      push(i + 1);
    } else if (ch === '،') {
      const before = line.slice(from, i).trim().split(/\s+/u).length;
      const rest = line.slice(i + 1);
      const stop = rest.search(/[.!?؟۔،]/u);
      const after = (stop < 0 ? rest : rest.slice(0, stop)).trim().split(/\s+/u).length;
      if (before >= MIN_CLAUSE_WORDS && after >= MIN_CLAUSE_WORDS) push(i + 1);
    }
  }
  push(line.length);
  return pieces;
}

function abbreviationBefore(line: string, dot: number): boolean {
  const word = /([\p{L}.]+)$/u.exec(line.slice(0, dot))?.[1] ?? '';
  if (word === '') return false;
  // An initial (`J. Smith`).
  if (/^\p{Lu}$/u.test(word)) return true;
  return ABBREVIATIONS.has(word.toLowerCase());
}

/** The words of a sentence (or any text), for patterns that look at its first words. */
export const wordsOf = (text: string) => text.split(/\s+/u).filter(Boolean);
