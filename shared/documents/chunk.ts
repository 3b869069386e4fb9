import type { Block } from './types.ts';
import { BLOCK_SEPARATOR } from './types.ts';

/** One chunk of a document: a span of its text (`text === document.text.slice(char_start, char_end)`). */
export type Chunk = {
  /** 0-based, in document order. */
  index: number;
  text: string;
  /** Pages of the chunk's first and last characters (PDF), else null. */
  page_start: number | null;
  page_end: number | null;
  /** The headings the chunk's text sits under, outermost first (those it starts with included). */
  heading_path: string[];
  /** The span in the document's text, in UTF-16 units, end exclusive. */
  char_start: number;
  char_end: number;
  /** How many of the chunk's first characters repeat the previous chunk's tail. */
  overlap_chars: number;
};

export type ChunkOptions = {
  /** The most characters a chunk may have, its overlap included. Default 1,200; at least 100. */
  maxChars?: number;
  /** Characters of the previous chunk's tail repeated at a chunk's start. Default 150; under maxChars / 2. */
  overlapChars?: number;
};

export const DEFAULT_CHUNK_CHARS = 1200;
export const DEFAULT_OVERLAP_CHARS = 150;
const MIN_CHUNK_CHARS = 100;

/** A piece of a block that fits a chunk: offsets into the document's text. */
type Piece = { start: number; end: number; page?: number; heading: boolean; path: string[] };

/** Sentence ends, Latin and Arabic (`. ! ? … ؟ ۔` and the Arabic full stop), then white space. */
const SENTENCE_END = /[.!?…؟۔。！？]+["'”’»)\]]*\s+/gu;
/** Clause breaks, for a sentence too long on its own: `, ; : ، ؛` then white space. */
const CLAUSE_END = /[,;:،؛]\s+/gu;

/** Ends (exclusive, relative to `text`) of the spans `pattern` splits `text` into. */
function cuts(text: string, pattern: RegExp): number[] {
  const ends: number[] = [];
  for (const match of text.matchAll(pattern)) ends.push(match.index + match[0].length);
  if (ends.at(-1) !== text.length) ends.push(text.length);
  return ends;
}

/**
 * `text` (starting at `offset` in the document) split into spans of at most `max` characters:
 * at sentence ends, else clause breaks, else white space, else anywhere (a run of letters
 * longer than a chunk), never inside a surrogate pair. Spans are packed greedily.
 */
function split(text: string, offset: number, max: number): [number, number][] {
  if (text.length <= max) return [[offset, offset + text.length]];
  const spans: [number, number][] = [];
  const levels = [SENTENCE_END, CLAUSE_END, /\s+/gu];
  const divide = (start: number, end: number, level: number) => {
    if (end - start <= max) {
      spans.push([start, end]);
      return;
    }
    const pattern = levels[level];
    if (pattern === undefined) {
      for (let s = start; s < end; ) {
        let e = Math.min(s + max, end);
        if (e < end && /[\uDC00-\uDFFF]/.test(text[e] ?? '')) e--;
        spans.push([s, e]);
        s = e;
      }
      return;
    }
    const ends = cuts(text.slice(start, end), pattern).map((e) => start + e);
    let s = start;
    let last = start;
    for (const e of ends) {
      if (e - s > max && last > s) {
        divide(s, last, level + 1);
        s = last;
      }
      last = e;
    }
    divide(s, end, level + 1);
  };
  divide(0, text.length, 0);
  // Trailing white space stays with its span; spans are trimmed at their start only.
  return spans
    .map(([s, e]): [number, number] => {
      let start = s;
      while (start < e && /\s/.test(text[start] ?? '')) start++;
      let stop = e;
      while (stop > start && /\s/.test(text[stop - 1] ?? '')) stop--;
      return [offset + start, offset + stop];
    })
    .filter(([s, e]) => e > s);
}

/**
 * A document's blocks as chunks for retrieval, deterministic for the same blocks and options.
 * Structure first: a heading starts a new chunk (headings in a row stay together, with the text
 * that follows them); blocks are packed whole while they fit; a block longer than a chunk is
 * split at sentence ends (Arabic `؟ ۔` included), then clause breaks (`، ؛`), then spaces. A
 * chunk never passes `maxChars`, its overlap included. A chunk that continues a section starts
 * with up to `overlapChars` of the previous chunk's tail (from a word boundary); a chunk that
 * starts a section (a heading) has none, so a section's text never leaks into the next one.
 * Between chunks only white space is skipped: the chunks' spans minus their overlaps cover the
 * document's text (`blocksText(blocks)`), and each chunk knows its pages and heading path.
 */
export function chunkDocument(blocks: readonly Block[], options: ChunkOptions = {}): Chunk[] {
  const maxChars = Math.max(MIN_CHUNK_CHARS, Math.floor(options.maxChars ?? DEFAULT_CHUNK_CHARS));
  const overlapChars = Math.max(
    0,
    Math.min(
      Math.floor(options.overlapChars ?? DEFAULT_OVERLAP_CHARS),
      Math.floor(maxChars / 2) - 1,
    ),
  );
  const text = blocks.map((b) => b.text).join(BLOCK_SEPARATOR);

  const pieces: Piece[] = [];
  const path: { level: number; text: string }[] = [];
  let offset = 0;
  for (const block of blocks) {
    if (block.kind === 'heading') {
      const level = block.level ?? 1;
      while ((path.at(-1)?.level ?? 0) >= level) path.pop();
      path.push({ level, text: block.text });
    }
    const headings = path.map((h) => h.text);
    for (const [start, end] of split(block.text, offset, maxChars - overlapChars)) {
      pieces.push({
        start,
        end,
        page: block.page,
        heading: block.kind === 'heading',
        path: headings,
      });
    }
    offset += block.text.length + BLOCK_SEPARATOR.length;
  }

  // The page of any character (an overlap's first one): the last piece starting at or before it.
  const pageAt = (position: number): number | null => {
    let [low, high] = [0, pieces.length - 1];
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if ((pieces[middle]?.start ?? 0) <= position) low = middle;
      else high = middle - 1;
    }
    return pieces[low]?.page ?? null;
  };

  type Draft = { start: number; end: number; fresh: number; pieces: Piece[] };
  const drafts: Draft[] = [];
  let current: Draft | undefined;
  for (const piece of pieces) {
    const onlyHeadings = current?.pieces.every((p) => p.heading) ?? false;
    const newSection = piece.heading && !onlyHeadings;
    if (current !== undefined && !newSection && piece.end - current.start <= maxChars) {
      current.end = piece.end;
      current.pieces.push(piece);
      continue;
    }
    if (current !== undefined) drafts.push(current);
    const previous = current;
    let start = piece.start;
    if (previous !== undefined && !piece.heading && overlapChars > 0) {
      start = overlapStart(text, previous, piece.start, overlapChars);
    }
    current = { start, end: piece.end, fresh: piece.start, pieces: [piece] };
  }
  if (current !== undefined) drafts.push(current);

  return drafts.map((draft, index) => {
    const first = draft.pieces[0];
    const last = draft.pieces.at(-1);
    // Headings in a row lead to the text under the last of them: its path is the chunk's.
    const body = draft.pieces.find((p) => !p.heading) ?? last;
    const previousEnd = drafts[index - 1]?.end ?? 0;
    return {
      index,
      text: text.slice(draft.start, draft.end),
      page_start: draft.start < draft.fresh ? pageAt(draft.start) : (first?.page ?? null),
      page_end: last?.page ?? null,
      heading_path: body?.path ?? [],
      char_start: draft.start,
      char_end: draft.end,
      overlap_chars: Math.max(0, Math.min(previousEnd, draft.end) - draft.start),
    };
  });
}

/**
 * Where a chunk's overlap starts: at most `overlapChars` before its first piece, inside the
 * previous chunk (never its first character, so a chunk is never all overlap), moved forward to
 * a word's start and past white space. `fresh` itself when no whole word fits.
 */
function overlapStart(
  text: string,
  previous: { start: number; end: number },
  fresh: number,
  overlapChars: number,
): number {
  let start = Math.max(fresh - overlapChars, previous.start + 1);
  while (start < previous.end && !/\s/.test(text[start - 1] ?? ' ')) start++;
  while (start < previous.end && /\s/.test(text[start] ?? '')) start++;
  return start >= previous.end ? fresh : start;
}
