import { docxBlocks } from './docx.ts';
import { htmlBlocks } from './html.ts';
import { detectDocumentLanguage } from './language.ts';
import { MAX_DOCUMENT_BYTES, MAX_EXTRACTION_MS, MAX_PDF_PAGES, MAX_TEXT_CHARS } from './limits.ts';
import { pdfBlocks } from './pdf.ts';
import { decodeText, htmlCharset, markdownBlocks, textBlocks } from './plain.ts';
import type { Block, DocumentType, ExtractionResult, PageInfo } from './types.ts';
import { blocksText, DOCUMENT_TYPES, ExtractionError } from './types.ts';

/** Caps for one extraction; each defaults to (and is clamped to) the constant in `limits.ts`. */
export type ExtractOptions = {
  maxBytes?: number;
  maxPages?: number;
  maxChars?: number;
  timeoutMs?: number;
};

const clamp = (value: number | undefined, max: number) => Math.min(value ?? max, max);

/**
 * A document's text and structure from its bytes: `txt`, `md`, `html`, `pdf` (page numbers kept)
 * or `docx`, with its language. Every expected failure is a value (`ok: false` with a `code`
 * and a message for the document's record), never a throw, and nothing partial is returned: a
 * file either yields all its text or fails. Bounded by `limits.ts` (size, pages, inflated size
 * and ratio, characters, time); `options` may lower the caps. Defaults: 25 MiB, 500 pages,
 * 5,000,000 characters, 20 s.
 */
export async function extractDocument(
  bytes: Uint8Array,
  type: DocumentType,
  options: ExtractOptions = {},
): Promise<ExtractionResult> {
  const maxBytes = clamp(options.maxBytes, MAX_DOCUMENT_BYTES);
  const maxChars = clamp(options.maxChars, MAX_TEXT_CHARS);
  const deadline = Date.now() + clamp(options.timeoutMs, MAX_EXTRACTION_MS);
  if (!DOCUMENT_TYPES.includes(type)) {
    return {
      ok: false,
      code: 'unsupported',
      message: `Documents of type ${String(type)} are not read.`,
    };
  }
  if (bytes.byteLength > maxBytes) {
    return {
      ok: false,
      code: 'too_large',
      message: `The file is ${bytes.byteLength} bytes, over the cap of ${maxBytes}.`,
    };
  }
  if (bytes.byteLength === 0)
    return { ok: false, code: 'unsupported', message: 'The file is empty.' };
  const warnings: string[] = [];
  try {
    let blocks: Block[];
    let pages: PageInfo[] | undefined;
    switch (type) {
      case 'txt':
        blocks = textBlocks(decodeText(bytes));
        break;
      case 'md':
        blocks = markdownBlocks(decodeText(bytes));
        break;
      case 'html':
        blocks = htmlBlocks(decodeText(bytes, htmlCharset(bytes)));
        break;
      case 'docx':
        blocks = docxBlocks(bytes, warnings);
        break;
      case 'pdf':
        ({ blocks, pages } = await pdfBlocks(
          bytes,
          { maxPages: clamp(options.maxPages, MAX_PDF_PAGES), deadline },
          warnings,
        ));
        break;
    }
    if (Date.now() > deadline) throw new ExtractionError('timeout', 'Extraction ran out of time.');
    const text = blocksText(blocks);
    if (text.length > maxChars) {
      throw new ExtractionError(
        'too_large',
        `The document has ${text.length} characters of text, over the cap of ${maxChars}.`,
      );
    }
    if (blocks.length === 0)
      return { ok: false, code: 'unsupported', message: 'The document has no text.' };
    return {
      ok: true,
      text,
      blocks,
      ...(pages ? { pages } : {}),
      language: detectDocumentLanguage(text),
      warnings,
    };
  } catch (error) {
    if (error instanceof ExtractionError)
      return { ok: false, code: error.code, message: error.message };
    // Anything else a parser throws on malformed input is the file's fault, not the caller's.
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, code: 'corrupt', message: `The ${type} file cannot be read (${detail}).` };
  }
}
