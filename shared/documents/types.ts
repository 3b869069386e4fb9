/**
 * The shapes of document extraction: what an extractor returns for a file it could read (its
 * blocks in reading order, the text they make, its pages and language) and the typed failure
 * for one it could not. A library result, never thrown: the pipeline maps a failure to the
 * document's status (`no_text_layer` → `needs_ocr`, the others → `failed` with the reason).
 */

/** The file types the extractors read. */
export type DocumentType = 'txt' | 'md' | 'html' | 'pdf' | 'docx';

export const DOCUMENT_TYPES: readonly DocumentType[] = ['txt', 'md', 'html', 'pdf', 'docx'];

/** A unit of a document's structure, in reading order. */
export type BlockKind = 'heading' | 'paragraph' | 'list_item' | 'table' | 'code' | 'quote';

export type Block = {
  kind: BlockKind;
  /** Heading level (1 to 6) for headings; nesting depth (1 = outermost) for list items. */
  level?: number;
  /** The block's text: a table's rows one per line, cells joined by ` | `. Never empty. */
  text: string;
  /** The 1-based page the block starts on (PDF only). */
  page?: number;
};

/** A document's language by its letters' scripts (see `detectDocumentLanguage`). */
export type DocumentLanguage = {
  /** ISO 639-1 when the script or Sift's analysers tell (`ar`, `en`, `fa`, `he`…), else `und`. */
  code: string;
  /** ISO 15924 code of the dominant script (`Arab`, `Latn`, `Cyrl`…), `Zyyy` when no letters. */
  script: string;
  /** 0 to 1: the dominant script's share of letters, lowered when the language is a guess. */
  confidence: number;
};

export type PageInfo = {
  /** 1-based page number. */
  number: number;
  /** Characters of text found on the page (0: a scanned page). */
  chars: number;
};

export type ExtractedDocument = {
  /** The blocks' texts joined by a blank line (`\n\n`): the text chunk offsets refer to. */
  text: string;
  blocks: Block[];
  /** PDF only: every page, in order. */
  pages?: PageInfo[];
  language: DocumentLanguage;
  /** What was read with loss (pages without text, unknown parts skipped…), for the record. */
  warnings: string[];
};

export type ExtractionFailureCode =
  /** The bytes are not a readable file of the type (bad ZIP, bad PDF, invalid UTF-8…). */
  | 'corrupt'
  /** A PDF that needs a password to open. */
  | 'encrypted'
  /** An archive whose entries inflate past the caps or at a bomb's ratio. */
  | 'too_large_uncompressed'
  /** The file itself is over the size cap, a PDF over the page cap, or the text over its cap. */
  | 'too_large'
  /** Extraction ran past its time budget. */
  | 'timeout'
  /** A PDF with pages but no text to extract: scanned, the pipeline's `needs_ocr`. */
  | 'no_text_layer'
  /** A type the library does not read, or a file of no text at all. */
  | 'unsupported';

export type ExtractionFailure = { code: ExtractionFailureCode; message: string };

export type ExtractionResult =
  | ({ ok: true } & ExtractedDocument)
  | ({ ok: false } & ExtractionFailure);

/** A failure as a value, for the extractors' early returns. */
export const fail = (code: ExtractionFailureCode, message: string): ExtractionFailure => ({
  code,
  message,
});

/** Thrown inside an extractor to stop it with a typed failure; caught by `extractDocument`. */
export class ExtractionError extends Error {
  readonly code: ExtractionFailureCode;
  constructor(code: ExtractionFailureCode, message: string) {
    super(message);
    this.name = 'ExtractionError';
    this.code = code;
  }
}

/** The separator between blocks in a document's text (chunk offsets count it). */
export const BLOCK_SEPARATOR = '\n\n';

/** The text of `blocks` as `extractDocument` gives it: their texts joined by a blank line. */
export const blocksText = (blocks: readonly Block[]) =>
  blocks.map((b) => b.text).join(BLOCK_SEPARATOR);
