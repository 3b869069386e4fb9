/**
 * URL slugs for titles in any script. Latin text is lower-cased and loses its accents
 * (`Café Crème` → `cafe-creme`); Arabic keeps its letters and loses its diacritics (harakat,
 * tanween, shadda, sukun, dagger alef, Quranic marks) and tatweel (`الـتَّـعْلِيم` → `التعليم`),
 * with hamza and madda forms kept as written (`أ`, `إ`, `آ`, `ؤ`, `ئ` are letters, not marks).
 * Arabic-Indic digits become ASCII digits. Every run of anything that is not a letter or a digit
 * (spaces, punctuation in either script, symbols, emoji) becomes one `-`; apostrophes vanish
 * (`don't` → `dont`). The result has no leading or trailing `-`, is at most `maxLength` code
 * points (default 80), cut at a word boundary when there is one, and may be empty (for a title
 * with no letters or digits): callers choose the fallback.
 *
 * Pure and deterministic; no Node APIs, so the Worker and the tools share it.
 */
export function slugify(text: string, options: { maxLength?: number } = {}): string {
  const maxLength = options.maxLength ?? 80;
  let s = text.normalize('NFKC').toLowerCase();
  s = s.replace(FORMAT_CHARS, '').replace(TATWEEL, '').replace(APOSTROPHES, '');
  s = s.replace(/[ßæœøłđþ]/g, (c) => LATIN_LETTERS[c] ?? c);
  // Arabic-Indic (U+0660…) and Persian (U+06F0…) digits: the low nibble is the digit's value.
  s = s.replace(/[\u0660-\u0669\u06f0-\u06f9]/g, (d) => String(d.charCodeAt(0) & 0xf));
  // Decompose, drop combining marks except Arabic hamza/madda above and below, recompose: the
  // kept marks fold back into أ إ آ ؤ ئ, and Latin letters come out without accents.
  s = s.normalize('NFD').replace(MARKS_EXCEPT_HAMZA, '').normalize('NFC').replace(MARKS, '');
  s = s.replace(NOT_LETTER_OR_DIGIT, '-').replace(EDGE_DASHES, '');
  return truncate(s, maxLength);
}

const FORMAT_CHARS = /\p{Cf}/gu; // zero-width joiners, bidi marks
const TATWEEL = /\u0640/g; // a letter category (Lm), so it must be removed by name
const APOSTROPHES = /['\u2018\u2019\u02bc\u02bb`´]/g;
const MARKS_EXCEPT_HAMZA = /(?![\u0653-\u0655])\p{M}/gu;
const MARKS = /\p{M}/gu;
const NOT_LETTER_OR_DIGIT = /[^\p{L}\p{N}]+/gu;
const EDGE_DASHES = /^-+|-+$/g;

/** Latin letters that are not a base letter plus an accent, so NFD leaves them alone. */
const LATIN_LETTERS: Record<string, string> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  ł: 'l',
  đ: 'd',
  þ: 'th',
};

function truncate(slug: string, maxLength: number): string {
  const chars = Array.from(slug);
  if (chars.length <= maxLength) return slug;
  const cut = chars.slice(0, maxLength).join('');
  // Keep whole words when the cut falls inside one, unless that would leave almost nothing.
  const boundary = chars[maxLength] === '-' ? cut.length : cut.lastIndexOf('-');
  const kept = boundary > cut.length / 2 ? cut.slice(0, boundary) : cut;
  return kept.replace(EDGE_DASHES, '');
}
