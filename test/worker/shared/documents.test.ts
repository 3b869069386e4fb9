import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import {
  DocxScanner,
  sniffFamily,
  textType,
  Utf8Checker,
} from '../../../shared/documents/detect.ts';
import { attachmentDisposition } from '../../../shared/documents/disposition.ts';
import { storeOriginal } from '../../../shared/documents/storage.ts';
import { docx, pdf, zip } from '../routes/documents/fixtures.ts';

const utf8 = (text: string) => new TextEncoder().encode(text);

describe('document type detection', () => {
  it('reads the family from the first bytes', () => {
    expect(sniffFamily(utf8('%PDF-1.7\n'))).toBe('pdf');
    expect(sniffFamily(zip({ 'a.txt': 'x' }))).toBe('zip');
    expect(sniffFamily(utf8('\uFEFF \n<!DOCTYPE HTML>\n<html>'))).toBe('html');
    expect(sniffFamily(utf8('<p>hello</p>'))).toBe('html');
    // A tag pattern must end the tag name: `<pre>` is not `<p`, `<author>` not `<a`.
    expect(sniffFamily(utf8('<author>x</author>'))).toBe('text');
    expect(sniffFamily(utf8('# Title\n\n<div>inline html</div>'))).toBe('text');
    expect(sniffFamily(utf8('مرحبا'))).toBe('text');
    // A head cut in the middle of a character is still text.
    expect(sniffFamily(utf8('abc€').subarray(0, 5))).toBe('text');
    expect(sniffFamily(new Uint8Array([0x89, 0x50, 0x4e, 0x47]))).toEqual({
      unsupported: 'a PNG image',
    });
    expect(sniffFamily(new Uint8Array([0x61, 0x00, 0x62]))).toEqual({ unsupported: 'binary data' });
    expect(sniffFamily(new Uint8Array([0x61, 0xc3, 0x28]))).toEqual({
      unsupported: 'binary data (not UTF-8 text)',
    });
  });

  it('finds a word/ part in a ZIP whatever the chunking', () => {
    const bytes = docx();
    for (const size of [1, 7, 31, 64, 1000, bytes.length]) {
      const scanner = new DocxScanner();
      for (let i = 0; i < bytes.length; i += size) scanner.push(bytes.subarray(i, i + size));
      expect(scanner.found, `chunks of ${size}`).toBe(true);
    }
    const plain = new DocxScanner();
    plain.push(zip({ 'xl/workbook.xml': '<x/>', 'words/not-word.txt': 'w' }));
    expect(plain.found).toBe(false);
  });

  it('checks a whole stream is UTF-8 without NUL, across chunk boundaries', () => {
    const ok = new Utf8Checker();
    const bytes = utf8('naïve € مرحبا 😀');
    for (const byte of bytes) ok.push(new Uint8Array([byte]));
    expect(ok.end()).toBe(true);
    const truncated = new Utf8Checker();
    truncated.push(utf8('€').subarray(0, 2));
    expect(truncated.end()).toBe(false);
    const nul = new Utf8Checker();
    nul.push(utf8('text'));
    nul.push(new Uint8Array([0]));
    expect(nul.end()).toBe(false);
  });

  it('tells Markdown from plain text only by the name or the declared type', () => {
    expect(textType('notes.MD', undefined)).toBe('markdown');
    expect(textType('notes', 'text/markdown; charset=utf-8')).toBe('markdown');
    expect(textType('notes.txt', 'text/plain')).toBe('text');
    expect(textType('notes.pdf', 'application/pdf')).toBe('text');
  });
});

describe('attachmentDisposition', () => {
  it('gives an ASCII fallback and the exact name in RFC 8187 encoding', () => {
    expect(attachmentDisposition('report.pdf')).toBe(
      `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`,
    );
    expect(attachmentDisposition('تقرير 100% "final".pdf')).toBe(
      `attachment; filename="_____ 100_ _final_.pdf"; filename*=UTF-8''%D8%AA%D9%82%D8%B1%D9%8A%D8%B1%20100%25%20%22final%22.pdf`,
    );
    expect(attachmentDisposition("it's (v2)*.md")).toBe(
      `attachment; filename="it's (v2)*.md"; filename*=UTF-8''it%27s%20%28v2%29%2A.md`,
    );
  });
});

describe('storeOriginal', () => {
  const body = (chunks: Uint8Array[]) =>
    new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
  const options = { fileName: 'x.pdf', declaredType: undefined };

  it('refuses a body shorter or longer than its declared length, and keeps nothing', async () => {
    const key = `test/${crypto.randomUUID()}/original`;
    const bytes = pdf();
    const short = await storeOriginal(env.FILES, key, body([bytes]), {
      ...options,
      declaredLength: bytes.length + 10,
    });
    expect(short).toEqual({
      ok: false,
      failure: { reason: 'length_mismatch', declared: bytes.length + 10, received: bytes.length },
    });
    const long = await storeOriginal(env.FILES, key, body([bytes, bytes]), {
      ...options,
      declaredLength: bytes.length,
    });
    expect(long).toMatchObject({ ok: false, failure: { reason: 'length_mismatch' } });
    expect(await env.FILES.head(key)).toBeNull();
  });

  it('stops at the limit it is given', async () => {
    const key = `test/${crypto.randomUUID()}/original`;
    const result = await storeOriginal(env.FILES, key, body([pdf(), new Uint8Array(4096)]), {
      ...options,
      declaredLength: undefined,
      maxBytes: 1024,
    });
    expect(result).toEqual({ ok: false, failure: { reason: 'too_large', limit: 1024 } });
    expect(await env.FILES.head(key)).toBeNull();
  });
});
