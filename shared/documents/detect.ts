/**
 * What a document is, decided from its bytes (magic numbers), never from its name: the name and
 * the client's `Content-Type` only choose between Markdown and plain text, two types the bytes
 * cannot tell apart. PDF (`%PDF-`), DOCX (a ZIP holding a `word/` part), HTML (WHATWG MIME
 * sniffing's tags at the start), and UTF-8 text without NUL (Markdown or plain).
 */
export const DOCUMENT_TYPES = {
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  html: 'text/html',
  markdown: 'text/markdown',
  text: 'text/plain',
} as const;
export type DocumentType = keyof typeof DOCUMENT_TYPES;

/** The accepted types as a 415 names them. */
export const ACCEPTED_DOCUMENT_TYPES =
  'PDF (application/pdf), DOCX (application/vnd.openxmlformats-officedocument.wordprocessingml.document), HTML (text/html), Markdown (text/markdown) and plain UTF-8 text (text/plain)';

/** How many leading bytes {@link sniffFamily} wants to see (fewer only when the file is shorter). */
export const SNIFF_BYTES = 512;

/** What the first bytes say; a ZIP and text are confirmed by the rest of the stream. */
export type Family = 'pdf' | 'zip' | 'html' | 'text' | { unsupported: string };

const startsWith = (bytes: Uint8Array, prefix: number[], at = 0) =>
  prefix.every((b, i) => bytes[at + i] === b);

/** Formats refused with their name, so the 415 says what was sent. */
const KNOWN: Array<[string, number[]]> = [
  ['a PNG image', [0x89, 0x50, 0x4e, 0x47]],
  ['a JPEG image', [0xff, 0xd8, 0xff]],
  ['a GIF image', [0x47, 0x49, 0x46, 0x38]],
  ['a Windows executable', [0x4d, 0x5a]],
  ['an ELF executable', [0x7f, 0x45, 0x4c, 0x46]],
  ['a gzip archive', [0x1f, 0x8b]],
  ['a legacy Office (OLE) file', [0xd0, 0xcf, 0x11, 0xe0]],
  ['an RTF document', [0x7b, 0x5c, 0x72, 0x74, 0x66]],
];

/** WHATWG MIME sniffing's HTML patterns, matched case-insensitively after leading white space. */
const HTML_TAGS = [
  '<!doctype html',
  '<html',
  '<head',
  '<script',
  '<iframe',
  '<h1',
  '<div',
  '<font',
  '<table',
  '<a',
  '<style',
  '<title',
  '<b',
  '<body',
  '<br',
  '<p',
  '<!--',
];

/** The family of a file from its first bytes (up to {@link SNIFF_BYTES}; at least one). */
export function sniffFamily(head: Uint8Array): Family {
  if (startsWith(head, [0x25, 0x50, 0x44, 0x46, 0x2d])) return 'pdf';
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) return 'zip';
  for (const [name, magic] of KNOWN) {
    if (startsWith(head, magic)) return { unsupported: name };
  }
  if (head.includes(0)) return { unsupported: 'binary data' };
  if (!isUtf8Prefix(head)) return { unsupported: 'binary data (not UTF-8 text)' };
  let text = new TextDecoder('utf-8').decode(head).replace(/^\uFEFF/, '');
  text = text.replace(/^[\t\n\f\r ]+/, '').toLowerCase();
  const html = HTML_TAGS.some((tag) => {
    if (!text.startsWith(tag)) return false;
    const next = text[tag.length];
    // The pattern is followed by a space or `>` (or, for a comment, anything).
    return tag === '<!--' || next === ' ' || next === '>';
  });
  return html ? 'html' : 'text';
}

/**
 * Whether `bytes` is valid UTF-8, allowing a sequence cut off at the end (the head of a longer
 * stream may end mid-character).
 */
function isUtf8Prefix(bytes: Uint8Array): boolean {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  try {
    decoder.decode(bytes, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/**
 * Markdown or plain text for a file the bytes say is UTF-8 text: the name's extension
 * (`.md`, `.markdown`) or the client's `text/markdown` says Markdown, anything else is plain.
 */
export function textType(fileName: string, declared: string | undefined): DocumentType {
  if (/\.(md|markdown|mdown|mkd)$/i.test(fileName)) return 'markdown';
  if (declared?.split(';', 1)[0]?.trim().toLowerCase() === 'text/markdown') return 'markdown';
  return 'text';
}

/**
 * Watches a ZIP stream for a local file header naming a `word/` part (which makes it a DOCX),
 * chunk by chunk. Names are read across chunk boundaries by keeping the last bytes of the
 * previous chunk (headers with names up to {@link CARRY} − 30 bytes are seen).
 */
const CARRY = 512;
export class DocxScanner {
  #carry = new Uint8Array(0);
  found = false;

  push(chunk: Uint8Array): void {
    if (this.found) return;
    const window = new Uint8Array(this.#carry.length + chunk.length);
    window.set(this.#carry);
    window.set(chunk, this.#carry.length);
    for (let i = window.indexOf(0x50); i !== -1 && i + 30 <= window.length; ) {
      if (startsWith(window, [0x50, 0x4b, 0x03, 0x04], i)) {
        const nameLength = window[i + 26]! | (window[i + 27]! << 8);
        if (i + 30 + nameLength <= window.length) {
          const name = new TextDecoder().decode(window.subarray(i + 30, i + 30 + nameLength));
          if (name.startsWith('word/')) {
            this.found = true;
            return;
          }
        }
      }
      i = window.indexOf(0x50, i + 1);
    }
    this.#carry = window.slice(Math.max(0, window.length - CARRY));
  }
}

/** Checks a whole stream is UTF-8 without NUL, chunk by chunk. */
export class Utf8Checker {
  #decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  valid = true;

  push(chunk: Uint8Array): void {
    if (!this.valid) return;
    if (chunk.includes(0)) {
      this.valid = false;
      return;
    }
    try {
      this.#decoder.decode(chunk, { stream: true });
    } catch {
      this.valid = false;
    }
  }

  end(): boolean {
    if (!this.valid) return false;
    try {
      this.#decoder.decode();
      return true;
    } catch {
      return false;
    }
  }
}
