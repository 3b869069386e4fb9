import type { Block } from './types.ts';
import { ExtractionError } from './types.ts';

/**
 * Bytes as text: UTF-8 unless `declared` names another encoding (a byte-order mark wins over
 * it, as in browsers), the mark dropped. Invalid UTF-8
 * fails `corrupt` rather than storing replacement characters; NUL bytes mean a binary file.
 */
export function decodeText(bytes: Uint8Array, declared?: string): string {
  let encoding = declared ?? 'utf-8';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) encoding = 'utf-16le';
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) encoding = 'utf-16be';
  else if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) encoding = 'utf-8';
  let text: string;
  try {
    text = new TextDecoder(encoding, { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ExtractionError('corrupt', `The file is not valid ${encoding.toUpperCase()} text.`);
  }
  if (text.includes('\u0000'))
    throw new ExtractionError('corrupt', 'The file is binary, not text.');
  return text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
}

/** Collapses a block's inner white space (not no-break spaces' meaning: they become spaces). */
export const squash = (text: string) => text.replace(/[\s\u00a0]+/gu, ' ').trim();

/** Plain text: paragraphs are separated by blank lines; a paragraph's lines are joined. */
export function textBlocks(text: string): Block[] {
  return text
    .split(/\n[ \t]*\n/)
    .map(squash)
    .filter((t) => t !== '')
    .map((t) => ({ kind: 'paragraph' as const, text: t }));
}

const ATX = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const SETEXT = /^ {0,3}(=+|-+)[ \t]*$/;
const LIST = /^([ \t]*)(?:[-*+]|\d{1,9}[.)])[ \t]+(.*)$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const TABLE_SEPARATOR = /^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$/;
const QUOTE = /^ {0,3}>[ \t]?(.*)$/;

/** Inline Markdown reduced to its text: links and images to their text, emphasis and code marks dropped. */
function inline(text: string): string {
  return squash(
    text
      .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
      .replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, '$2')
      .replace(/(^|[^\p{L}\p{N}*_])([*_])(?=\S)([\s\S]*?\S)\2(?![\p{L}\p{N}])/gu, '$1$3')
      .replace(/`([^`]+)`/g, '$1')
      .replace(/\\([\\`*_{}[\]()#+\-.!|>])/g, '$1'),
  );
}

/** A table row's cells, its outer pipes gone. */
const cells = (row: string) =>
  row
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '')
    .split(/(?<!\\)\|/)
    .map((c) => inline(c));

/**
 * Markdown (CommonMark's block structure, GFM tables): ATX and setext headings, list items with
 * their nesting depth, fenced code, quotes, pipe tables as rows of ` | `-joined cells, and
 * paragraphs; inline marks reduced to their text. Not a full CommonMark parser: lazy
 * continuation lines and HTML blocks are read as paragraphs.
 */
export function markdownBlocks(text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let paragraph: string[] = [];
  let kind: 'paragraph' | 'quote' = 'paragraph';
  const flush = () => {
    const t = inline(paragraph.join(' '));
    if (t !== '') blocks.push({ kind, text: t });
    paragraph = [];
    kind = 'paragraph';
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const fence = FENCE.exec(line);
    if (fence) {
      flush();
      const marker = fence[1] ?? '```';
      const body: string[] = [];
      for (i++; i < lines.length && !(lines[i] ?? '').trimStart().startsWith(marker); i++) {
        body.push(lines[i] ?? '');
      }
      const code = body.join('\n').trim();
      if (code !== '') blocks.push({ kind: 'code', text: code });
      continue;
    }
    if (line.trim() === '') {
      flush();
      continue;
    }
    const atx = ATX.exec(line);
    if (atx) {
      flush();
      const t = inline(atx[2] ?? '');
      if (t !== '') blocks.push({ kind: 'heading', level: atx[1]?.length ?? 1, text: t });
      continue;
    }
    const setext = SETEXT.exec(line);
    if (setext && paragraph.length > 0 && kind === 'paragraph') {
      const t = inline(paragraph.join(' '));
      paragraph = [];
      if (t !== '')
        blocks.push({ kind: 'heading', level: setext[1]?.startsWith('=') ? 1 : 2, text: t });
      continue;
    }
    if (line.includes('|') && TABLE_SEPARATOR.test(lines[i + 1] ?? '') && paragraph.length === 0) {
      const rows = [cells(line)];
      for (i += 2; i < lines.length && (lines[i] ?? '').includes('|'); i++)
        rows.push(cells(lines[i] ?? ''));
      i--;
      blocks.push({ kind: 'table', text: rows.map((r) => r.join(' | ')).join('\n') });
      continue;
    }
    const list = LIST.exec(line);
    if (list) {
      flush();
      const depth = Math.floor((list[1] ?? '').replaceAll('\t', '    ').length / 2) + 1;
      const item = [list[2] ?? ''];
      // Continuation lines: indented, not a new item or block.
      while (
        i + 1 < lines.length &&
        /^[ \t]+\S/.test(lines[i + 1] ?? '') &&
        !LIST.exec(lines[i + 1] ?? '')
      ) {
        item.push(lines[++i] ?? '');
      }
      const t = inline(item.join(' '));
      if (t !== '') blocks.push({ kind: 'list_item', level: Math.min(depth, 6), text: t });
      continue;
    }
    const quote = QUOTE.exec(line);
    if (quote) {
      if (kind !== 'quote') flush();
      kind = 'quote';
      paragraph.push(quote[1] ?? '');
      continue;
    }
    if (kind === 'quote') flush();
    paragraph.push(line);
  }
  flush();
  return blocks;
}

/** An encoding label TextDecoder knows, else undefined. */
function knownEncoding(label: string): string | undefined {
  try {
    return new TextDecoder(label).encoding;
  } catch {
    return undefined;
  }
}

/**
 * The encoding an HTML file declares in its first 1,024 bytes (`<meta charset>` or an
 * `http-equiv` Content-Type), as HTML's prescan finds it; undefined when there is none or the
 * runtime's TextDecoder does not know it (the file is then read as UTF-8). Legacy Arabic pages
 * are often `windows-1256`.
 */
export function htmlCharset(bytes: Uint8Array): string | undefined {
  let head = '';
  for (const byte of bytes.subarray(0, 1024)) head += String.fromCharCode(byte);
  const label = /<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)/i.exec(head)?.[1];
  if (label === undefined) return undefined;
  const encoding = knownEncoding(label);
  // A page saying UTF-16 in ASCII bytes is not UTF-16 (the prescan's rule).
  return encoding?.startsWith('utf-16') ? 'utf-8' : encoding;
}
