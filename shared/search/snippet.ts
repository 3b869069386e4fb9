import { analyze, analyzeTokens } from '../text/analyze.ts';

/** The longest snippet of a body, in characters of the original text. */
export const SNIPPET_CHARS = 180;

/** Escapes text for HTML: snippets are HTML with only `<mark>` elements in it. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** The stems a snippet highlights: those of the query's words (and of its expansions). */
export function highlightTerms(texts: readonly string[]): Set<string> {
  return new Set(texts.flatMap((text) => analyze(text)));
}

type Span = { start: number; end: number };

function marked(text: string, spans: readonly Span[], from: number, to: number): string {
  let out = '';
  let at = from;
  for (const span of spans) {
    if (span.end <= from || span.start >= to) continue;
    out += `${escapeHtml(text.slice(at, span.start))}<mark>${escapeHtml(text.slice(span.start, span.end))}</mark>`;
    at = span.end;
  }
  return out + escapeHtml(text.slice(at, to));
}

/** The words of `text` whose stems are in `terms` (stop words never), in order. */
function matches(text: string, terms: ReadonlySet<string>): Span[] {
  return analyzeTokens(text)
    .filter((t) => terms.has(t.stem))
    .map((t) => ({ start: t.start, end: t.end }));
}

/** `text` as HTML with every word matching `terms` in `<mark>`. */
export function highlight(text: string, terms: ReadonlySet<string>): string {
  return marked(text, matches(text, terms), 0, text.length);
}

/**
 * The passage of `text` (at most {@link SNIPPET_CHARS} characters, cut at word boundaries) that
 * holds the most matching words, as HTML with them in `<mark>` and `…` where it was cut. With
 * no match: the opening of the text. Works on the original text, diacritics and all; the
 * matching is on stems, so `running` marks `runs`, `الكتاب` marks `كتاب`.
 */
export function snippet(text: string, terms: ReadonlySet<string>): string {
  const spans = matches(text, terms);
  let start = 0;
  if (spans.length > 0) {
    // The window starting at some match that covers the most matches; the earliest wins.
    let best = 0;
    for (let i = 0, j = 0; i < spans.length; i++) {
      while (j < spans.length && spans[j]!.end - spans[i]!.start <= SNIPPET_CHARS) j++;
      if (j - i > best) {
        best = j - i;
        start = spans[i]!.start;
      }
    }
    // Up to 30 characters of context before the first match, from a word boundary.
    const lead = start - 30;
    if (lead <= 0) start = 0;
    else {
      const space = text.indexOf(' ', lead);
      if (space !== -1 && space < start) start = space + 1;
    }
  }
  let end = Math.min(text.length, start + SNIPPET_CHARS);
  if (end < text.length) {
    const space = text.lastIndexOf(' ', end);
    if (space > start) end = space;
  }
  const body = marked(text, spans, start, end).trim();
  return `${start > 0 ? '…' : ''}${body}${end < text.length ? '…' : ''}`;
}
