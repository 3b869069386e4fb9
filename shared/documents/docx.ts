import { XMLParser } from 'fast-xml-parser';
import { MAX_DOCX_TOTAL_BYTES } from './limits.ts';
import { squash } from './plain.ts';
import type { Block } from './types.ts';
import { ExtractionError } from './types.ts';
import { readZipDirectory, readZipEntry } from './zip.ts';

/** A node of fast-xml-parser's ordered output: one key (the tag) plus `:@` for attributes. */
type XmlNode = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  // `w:t` keeps its spaces (`xml:space="preserve"`): the words either side of it are apart.
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: { enabled: true, maxEntityCount: 50, maxEntitySize: 10_000 },
});

const tagOf = (node: XmlNode) => Object.keys(node).find((k) => k !== ':@') ?? '';
const children = (node: XmlNode): XmlNode[] => {
  const value = node[tagOf(node)];
  return Array.isArray(value) ? (value as XmlNode[]) : [];
};
const attr = (node: XmlNode, name: string): string | undefined => {
  const attributes = node[':@'] as Record<string, string> | undefined;
  return attributes?.[name];
};
const find = (nodes: XmlNode[], tag: string) => nodes.find((n) => tagOf(n) === tag);

function parse(bytes: Uint8Array, name: string): XmlNode[] {
  let xml: string;
  try {
    xml = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ExtractionError('corrupt', `${name} is not UTF-8.`);
  }
  try {
    return parser.parse(xml) as XmlNode[];
  } catch (error) {
    throw new ExtractionError(
      'corrupt',
      `${name} is not well-formed XML (${error instanceof Error ? error.message : error}).`,
    );
  }
}

/**
 * Heading levels by style id, from `word/styles.xml`: a style named `heading N` (Word's built-in
 * names are English whatever the interface language, while ids are localised: `Titre1`), a
 * `Title` style (level 1), or a paragraph style with an outline level.
 */
function headingStyles(styles: XmlNode[] | undefined): Map<string, number> {
  const levels = new Map<string, number>();
  const root = styles && find(styles, 'w:styles');
  for (const style of root ? children(root) : []) {
    if (tagOf(style) !== 'w:style') continue;
    const id = attr(style, 'w:styleId');
    if (id === undefined) continue;
    const inner = children(style);
    const name = (attr(find(inner, 'w:name') ?? {}, 'w:val') ?? '').toLowerCase();
    const heading = /^heading\s*([1-9])$/.exec(name);
    const outline = attr(find(children(find(inner, 'w:pPr') ?? {}), 'w:outlineLvl') ?? {}, 'w:val');
    if (heading) levels.set(id, Number(heading[1]));
    else if (name === 'title') levels.set(id, 1);
    else if (outline !== undefined && Number(outline) < 9) levels.set(id, Number(outline) + 1);
  }
  return levels;
}

/** A style id's heading level when styles.xml is missing: `Heading1`, `heading 2`, `Title`. */
function levelByStyleId(id: string): number | undefined {
  const match = /^heading\s*([1-9])$/i.exec(id);
  if (match) return Number(match[1]);
  return /^title$/i.test(id) ? 1 : undefined;
}

/** Elements whose text is not the document's current text (deleted revisions, field codes…). */
const SKIPPED = new Set([
  'w:del',
  'w:delText',
  'w:instrText',
  'w:pPr',
  'w:rPr',
  'w:sectPr',
  'w:fldChar',
  'mc:Fallback',
]);

/** A paragraph's or cell's text, in document order (runs, hyperlinks, insertions, fields…). */
function textOf(nodes: XmlNode[], out: string[] = []): string[] {
  for (const node of nodes) {
    const tag = tagOf(node);
    if (SKIPPED.has(tag)) continue;
    if (tag === '#text') continue;
    if (tag === 'w:t') {
      for (const t of children(node)) if (typeof t['#text'] === 'string') out.push(t['#text']);
    } else if (tag === 'w:tab' || tag === 'w:ptab') out.push('\t');
    else if (tag === 'w:br' || tag === 'w:cr') out.push(' ');
    else if (tag === 'w:noBreakHyphen') out.push('-');
    else if (tag === 'w:sym') out.push(' ');
    else textOf(children(node), out);
  }
  return out;
}

/**
 * DOCX (WordprocessingML) as blocks: the body's paragraphs in order, headings by their style
 * (`w:pStyle` → styles.xml's `heading N` names, or ids `Heading1`…), list items by numbering
 * (`w:numPr`, level `w:ilvl` + 1), tables with one line per row and cells joined by ` | `,
 * content controls and text boxes read through. Right-to-left text is stored in logical order,
 * so it comes out in reading order as it is. The archive is read through the capped inflater
 * (`zip.ts`): a bomb or a truncated file fails before any text is returned.
 */
export function docxBlocks(bytes: Uint8Array, warnings: string[]): Block[] {
  const entries = readZipDirectory(bytes);
  const documentEntry = entries.get('word/document.xml');
  if (documentEntry === undefined) {
    throw new ExtractionError(
      'corrupt',
      'The archive has no word/document.xml: not a DOCX document.',
    );
  }
  const budget = { remaining: MAX_DOCX_TOTAL_BYTES };
  const document = parse(readZipEntry(bytes, documentEntry, budget), 'word/document.xml');
  const stylesEntry = entries.get('word/styles.xml');
  let levels = new Map<string, number>();
  if (stylesEntry !== undefined) {
    try {
      levels = headingStyles(parse(readZipEntry(bytes, stylesEntry, budget), 'word/styles.xml'));
    } catch (error) {
      if (error instanceof ExtractionError && error.code !== 'corrupt') throw error;
      warnings.push('word/styles.xml is unreadable: headings are known by their style ids only.');
    }
  }
  const root = find(document, 'w:document');
  const body = root && find(children(root), 'w:body');
  if (body === undefined) throw new ExtractionError('corrupt', 'word/document.xml has no body.');

  const blocks: Block[] = [];
  const paragraph = (p: XmlNode) => {
    const nodes = children(p);
    const properties = children(find(nodes, 'w:pPr') ?? {});
    const style = attr(find(properties, 'w:pStyle') ?? {}, 'w:val');
    const text = squash(textOf(nodes).join(''));
    if (text === '') return;
    const heading = style === undefined ? undefined : (levels.get(style) ?? levelByStyleId(style));
    const numbering = find(properties, 'w:numPr');
    if (heading !== undefined) blocks.push({ kind: 'heading', level: Math.min(heading, 6), text });
    else if (numbering !== undefined || /^list/i.test(style ?? '')) {
      const level = Number(attr(find(children(numbering ?? {}), 'w:ilvl') ?? {}, 'w:val') ?? 0);
      blocks.push({ kind: 'list_item', level: Math.min(level + 1, 6), text });
    } else blocks.push({ kind: 'paragraph', text });
  };
  const table = (t: XmlNode) => {
    const rows: string[] = [];
    for (const row of children(t)) {
      if (tagOf(row) !== 'w:tr') continue;
      const cells = children(row)
        .filter((c) => tagOf(c) === 'w:tc')
        // A cell's paragraphs are one cell's text; nested tables are flattened into it.
        .map((c) => squash(textOf(children(c).filter((n) => tagOf(n) !== 'w:tcPr')).join(' ')));
      if (cells.some((c) => c !== '')) rows.push(cells.join(' | '));
    }
    if (rows.length > 0) blocks.push({ kind: 'table', text: rows.join('\n') });
  };
  const walk = (nodes: XmlNode[]) => {
    for (const node of nodes) {
      const tag = tagOf(node);
      if (tag === 'w:p') paragraph(node);
      else if (tag === 'w:tbl') table(node);
      else if (tag === 'w:sdt') walk(children(find(children(node), 'w:sdtContent') ?? {}));
      else if (tag === 'w:customXml' || tag === 'w:ins' || tag === 'w:smartTag')
        walk(children(node));
    }
  };
  walk(children(body));
  return blocks;
}
