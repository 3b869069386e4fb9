import { getDocumentProxy } from 'unpdf';
import { squash } from './plain.ts';
import type { Block, PageInfo } from './types.ts';
import { ExtractionError } from './types.ts';

/** The part of PDF.js's text items read here. */
type TextItem = { str: string; hasEOL: boolean; transform: number[]; height: number };

export type PdfOptions = { maxPages: number; deadline: number };

/** A gap between lines over this many line heights starts a new paragraph. */
const PARAGRAPH_GAP = 1.6;

/**
 * A PDF's text, page by page, through unpdf (PDF.js built for serverless runtimes): each page's
 * lines grouped into paragraphs by the vertical gaps between them, every block keeping its page
 * number. PDF.js orders right-to-left runs for reading (its bidi pass), so Arabic comes out in
 * logical order. Fails `encrypted` for a PDF that needs a password (one that opens with the empty
 * password, permissions only, is read), `corrupt` for one PDF.js cannot open, `too_large` past
 * the page cap, and `no_text_layer` when no page has text (a scan: the pipeline's `needs_ocr`).
 */
export async function pdfBlocks(
  bytes: Uint8Array,
  options: PdfOptions,
  warnings: string[],
): Promise<{ blocks: Block[]; pages: PageInfo[] }> {
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // PDF.js may detach the buffer it is given: it gets a copy.
    pdf = await getDocumentProxy(bytes.slice(), {
      useSystemFonts: false,
      disableFontFace: true,
      stopAtErrors: false,
      // Errors only: PDF.js warns on every font it need not render, into the Worker's logs.
      verbosity: 0,
    });
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    if (name === 'PasswordException') {
      throw new ExtractionError('encrypted', 'The PDF is encrypted and needs a password to open.');
    }
    const detail = error instanceof Error ? error.message : String(error);
    throw new ExtractionError('corrupt', `The PDF cannot be opened (${detail}).`);
  }
  try {
    if (pdf.numPages > options.maxPages) {
      throw new ExtractionError(
        'too_large',
        `The PDF has ${pdf.numPages} pages, over the cap of ${options.maxPages}.`,
      );
    }
    const blocks: Block[] = [];
    const pages: PageInfo[] = [];
    for (let number = 1; number <= pdf.numPages; number++) {
      if (Date.now() > options.deadline) {
        throw new ExtractionError(
          'timeout',
          `Extraction ran out of time at page ${number} of ${pdf.numPages}.`,
        );
      }
      let items: TextItem[];
      try {
        const page = await pdf.getPage(number);
        const content = await page.getTextContent();
        items = content.items.filter(
          (i): i is TextItem & (typeof content.items)[number] => 'str' in i,
        );
        page.cleanup();
      } catch (error) {
        warnings.push(
          `Page ${number} is unreadable (${error instanceof Error ? error.message : error}).`,
        );
        pages.push({ number, chars: 0 });
        continue;
      }
      const paragraphs = pageParagraphs(items);
      const chars = paragraphs.reduce((n, p) => n + p.length, 0);
      pages.push({ number, chars });
      for (const text of paragraphs) blocks.push({ kind: 'paragraph', text, page: number });
    }
    if (blocks.length === 0) {
      throw new ExtractionError(
        'no_text_layer',
        `None of the PDF's ${pdf.numPages} pages has a text layer: it needs OCR.`,
      );
    }
    const empty = pages.filter((p) => p.chars === 0).map((p) => p.number);
    if (empty.length > 0) warnings.push(`Pages without text (scanned?): ${empty.join(', ')}.`);
    return { blocks, pages };
  } finally {
    // Frees the worker-side document (PDF.js keeps it until the loading task is destroyed).
    await pdf.loadingTask.destroy().catch(() => undefined);
  }
}

/** A page's text items as paragraphs: lines end at `hasEOL`; wide gaps between lines break paragraphs. */
function pageParagraphs(items: TextItem[]): string[] {
  const lines: { text: string; y: number; height: number }[] = [];
  let current = '';
  let y: number | undefined;
  let height = 0;
  const endLine = () => {
    if (current.trim() !== '' && y !== undefined) lines.push({ text: current, y, height });
    current = '';
    y = undefined;
    height = 0;
  };
  for (const item of items) {
    const itemY = item.transform[5] ?? 0;
    // An item well below or above the line's baseline starts a line PDF.js did not end.
    if (
      y !== undefined &&
      item.str !== '' &&
      Math.abs(itemY - y) > Math.max(height, item.height) * 0.5
    )
      endLine();
    if (item.str !== '') {
      y ??= itemY;
      height = Math.max(height, item.height);
    }
    current += (item as { dir?: string }).dir === 'rtl' ? unswapLamAlef(item.str) : item.str;
    if (item.hasEOL) endLine();
  }
  endLine();
  const paragraphs: string[] = [];
  let paragraph: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const previous = lines[i - 1];
    if (line === undefined) continue;
    if (previous !== undefined) {
      const gap = Math.abs(previous.y - line.y);
      const lineHeight = Math.max(previous.height, line.height, 1);
      if (gap > lineHeight * PARAGRAPH_GAP) {
        paragraphs.push(squash(paragraph.join(' ')));
        paragraph = [];
      }
    }
    paragraph.push(line.text);
  }
  if (paragraph.length > 0) paragraphs.push(squash(paragraph.join(' ')));
  return paragraphs.filter((p) => p !== '');
}

/**
 * PDF.js reverses a right-to-left run character by character to give it back in logical order;
 * a lam-alef ligature glyph maps to two letters (ToUnicode `لا`), which the reversal swaps
 * (`ال`). Where the swap is unmistakable it is undone: two alefs in a row (`األ` for `الأ`: the
 * article before a hamza word) and `ال` standing alone (the article never does; `لا` is "no").
 * Swaps inside a word (`خالل` for `خلال`) are ambiguous and stay: the fidelity left on the table.
 */
export function unswapLamAlef(text: string): string {
  return text
    .replace(/ا([أإآ])ل/gu, 'ال$1')
    .replace(/(^|[^\p{L}\p{M}])ال(?![\p{L}\p{M}])/gu, '$1لا');
}
