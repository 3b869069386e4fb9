/**
 * The extractors' caps. A Worker has 128 MB of memory and a CPU budget per invocation, so every
 * input is bounded before it is read: the file's size, a PDF's pages, a DOCX entry's inflated
 * size and ratio (a decompression bomb stops at the cap, never inflated whole), the text kept,
 * and the time spent. Callers may lower them (`ExtractOptions`), not raise them past a Worker's
 * means.
 */

/** The largest file read: 25 MiB. */
export const MAX_DOCUMENT_BYTES = 25 * 1024 * 1024;

/** The most pages a PDF may have: past it the file fails `too_large`, none of it read. */
export const MAX_PDF_PAGES = 500;

/** The most a single DOCX entry (`word/document.xml`, `word/styles.xml`) may inflate to: 32 MiB. */
export const MAX_DOCX_ENTRY_BYTES = 32 * 1024 * 1024;

/** The most all DOCX entries read may inflate to together: 48 MiB. */
export const MAX_DOCX_TOTAL_BYTES = 48 * 1024 * 1024;

/**
 * The highest inflated/compressed ratio allowed for an entry once it is past
 * {@link RATIO_CHECK_FLOOR_BYTES}: XML compresses 10 to 30 times; a bomb runs at ~1000.
 */
export const MAX_COMPRESSION_RATIO = 100;

/** Entries smaller than this inflated are not held to the ratio (tiny XML compresses well). */
export const RATIO_CHECK_FLOOR_BYTES = 1024 * 1024;

/** Compressed bytes fed to the inflater at a time: one step inflates to at most ~1 MiB. */
export const INFLATE_STEP_BYTES = 1024;

/** The most characters of text a document may yield: 5 million (about 2,500 pages). */
export const MAX_TEXT_CHARS = 5_000_000;

/** The time extraction may take: 20 s (checked between pages and between steps). */
export const MAX_EXTRACTION_MS = 20_000;
