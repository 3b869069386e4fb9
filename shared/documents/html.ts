import { decodeEntities } from '../text/html.ts';
import { squash } from './plain.ts';
import type { Block, BlockKind } from './types.ts';

/** Elements dropped with everything in them: code, styles, metadata, embedded media, controls. */
const DROPPED =
  /<(script|style|noscript|iframe|object|embed|template|svg|math|head|select|textarea|button)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;

/** Elements that end the block before them and start a new one. */
const BLOCKS = new Set([
  'p',
  'div',
  'section',
  'article',
  'aside',
  'header',
  'footer',
  'nav',
  'main',
  'figure',
  'figcaption',
  'address',
  'details',
  'summary',
  'center',
  'dl',
  'dt',
  'dd',
  'hr',
  'form',
  'fieldset',
  'legend',
  'caption',
  'body',
  'html',
]);

const TOKEN =
  /<(\/?)([A-Za-z][A-Za-z0-9]*)\b(?:[^>"']|"[^"]*"|'[^']*')*>|<!\[CDATA\[[\s\S]*?\]\]>|<![^>]*>|<\?[^>]*>|([^<]+)|</g;

type Table = { rows: string[][]; row: string[] | undefined; cell: string[] | undefined };

/**
 * HTML as blocks in reading order: headings (`h1`–`h6`) with their level, list items with their
 * nesting depth, tables with one line per row and cells joined by ` | `, preformatted text as
 * code, quotes, and paragraphs for the rest; scripts, styles, forms' controls and comments go,
 * entities are decoded (Sift's feed decoder, `shared/text/html.ts`). Inline elements keep their
 * text and lose their markup. A tolerant tokenizer, not an HTML5 parser: unclosed paragraphs and
 * list items end at the next block as browsers would end them.
 */
export function htmlBlocks(html: string): Block[] {
  const source = html.replace(/<!--[\s\S]*?(?:-->|$)/g, '').replace(DROPPED, ' ');
  const blocks: Block[] = [];
  let parts: string[] = [];
  let heading: number | undefined;
  let quote = 0;
  let pre = 0;
  const lists: { items: number }[] = [];
  const tables: Table[] = [];

  const kind = (): { kind: BlockKind; level?: number } => {
    if (heading !== undefined) return { kind: 'heading', level: heading };
    if (pre > 0) return { kind: 'code' };
    if (lists.length > 0 && (lists.at(-1)?.items ?? 0) > 0)
      return { kind: 'list_item', level: Math.min(lists.length, 6) };
    if (quote > 0) return { kind: 'quote' };
    return { kind: 'paragraph' };
  };
  let open = kind();
  const flush = () => {
    const raw = parts.join('');
    parts = [];
    const text = open.kind === 'code' ? raw.replace(/^\n+|\s+$/g, '') : squash(raw);
    if (text !== '') blocks.push({ ...open, text });
    open = kind();
  };
  const table = () => tables.at(-1);
  const closeCell = () => {
    const t = table();
    if (t?.cell === undefined) return;
    t.row ??= [];
    t.row.push(squash(t.cell.join('')));
    t.cell = undefined;
  };
  const closeRow = () => {
    const t = table();
    if (t === undefined) return;
    closeCell();
    if (t.row?.some((c) => c !== '')) t.rows.push(t.row);
    t.row = undefined;
  };

  for (const match of source.matchAll(TOKEN)) {
    const [whole, closing, rawName, text] = match;
    if (rawName === undefined) {
      if (whole.startsWith('<!') || whole.startsWith('<?')) continue;
      const decoded = decodeEntities(text ?? whole);
      const t = table();
      if (t !== undefined) {
        t.cell ??= [];
        t.cell.push(decoded);
      } else parts.push(decoded);
      continue;
    }
    const name = rawName.toLowerCase();
    const close = closing === '/';
    if (name === 'table') {
      if (close) {
        const t = tables.pop();
        if (t === undefined) continue;
        closeRow();
        // A table's cells back in flat text: its rows, ` | ` between cells.
        const rendered = t.rows.map((r) => r.join(' | ')).join('\n');
        const outer = table();
        if (outer !== undefined) {
          outer.cell ??= [];
          outer.cell.push(` ${rendered.replaceAll('\n', ' ')} `);
        } else if (rendered.trim() !== '') {
          flush();
          blocks.push({ kind: 'table', text: rendered });
        }
      } else {
        if (tables.length === 0) flush();
        tables.push({ rows: [], row: undefined, cell: undefined });
      }
      continue;
    }
    if (table() !== undefined) {
      if (name === 'tr') closeRow();
      else if (name === 'td' || name === 'th') {
        closeCell();
        if (!close) table()!.cell = [];
      } else if (name === 'br' || BLOCKS.has(name) || name === 'li' || name === 'p') {
        const t = table()!;
        t.cell ??= [];
        t.cell.push(' ');
      }
      continue;
    }
    if (/^h[1-6]$/.test(name)) {
      flush();
      heading = close ? undefined : Number(name[1]);
      open = kind();
      continue;
    }
    switch (name) {
      case 'ul':
      case 'ol':
        flush();
        if (close) lists.pop();
        else lists.push({ items: 0 });
        open = kind();
        break;
      case 'li': {
        flush();
        const list = lists.at(-1);
        if (list !== undefined && !close) list.items++;
        if (list === undefined && !close) lists.push({ items: 1 });
        open = kind();
        break;
      }
      case 'blockquote':
        flush();
        quote = Math.max(0, quote + (close ? -1 : 1));
        open = kind();
        break;
      case 'pre':
        flush();
        pre = Math.max(0, pre + (close ? -1 : 1));
        open = kind();
        break;
      case 'br':
        parts.push('\n');
        break;
      default:
        if (BLOCKS.has(name)) flush();
        else if (name === 'img' || name === 'input') parts.push(' ');
    }
  }
  while (tables.length > 0) {
    // An unclosed table still counts.
    closeRow();
    const t = tables.pop()!;
    const rendered = t.rows.map((r) => r.join(' | ')).join('\n');
    if (rendered.trim() !== '') blocks.push({ kind: 'table', text: rendered });
  }
  flush();
  return blocks;
}
