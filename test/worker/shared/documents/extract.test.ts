import { describe, expect, it } from 'vitest';
import dejaVuSans from '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf?inline';
import { extractDocument } from '../../../../shared/documents/extract.ts';
import { unswapLamAlef } from '../../../../shared/documents/pdf.ts';
import type { DocumentType, ExtractionResult } from '../../../../shared/documents/types.ts';
import { readZipDirectory } from '../../../../shared/documents/zip.ts';
import {
  ARTICLES,
  type Article,
  docxBomb,
  docxFixture,
  docxParts,
  encryptedPdf,
  expectedBlocks,
  expectedText,
  fixtureOf,
  pdfFixture,
  scannedPdfFixture,
  similarity,
  txtFixture,
} from '../../../helpers/document-fixtures.ts';

/** The fixture font, inlined by Vite as a data URL (workerd has no file system). */
const font = Uint8Array.from(atob(dejaVuSans.slice(dejaVuSans.indexOf(',') + 1)), (c) =>
  c.charCodeAt(0),
);

const FIDELITY_GOAL = 0.98;

const fixture = (type: DocumentType, article: Article) => fixtureOf(type, article, font);

function ok(result: ExtractionResult) {
  if (!result.ok) throw new Error(`extraction failed: ${result.code}: ${result.message}`);
  return result;
}

describe('extractDocument fidelity on generated fixtures', () => {
  for (const article of ARTICLES) {
    for (const type of ['txt', 'md', 'html', 'docx', 'pdf'] as const) {
      it(`extracts a ${article.lang} ${type} with similarity ≥ ${FIDELITY_GOAL}`, async () => {
        const result = ok(await extractDocument(await fixture(type, article), type));
        const score = similarity(result.text, expectedText(article));
        expect(score, result.text).toBeGreaterThanOrEqual(FIDELITY_GOAL);
        expect(result.language.code).toBe(article.lang);
        expect(result.language.script).toBe(article.lang === 'ar' ? 'Arab' : 'Latn');
        expect(result.language.confidence).toBeGreaterThan(0.9);
        expect(result.warnings).toEqual([]);
      });
    }
  }
});

describe('extractDocument structure', () => {
  for (const article of ARTICLES) {
    for (const type of ['md', 'html', 'docx'] as const) {
      it(`keeps the headings, list items and table rows of a ${article.lang} ${type}`, async () => {
        const result = ok(await extractDocument(await fixture(type, article), type));
        const got = result.blocks.map(({ kind, text, level }) => ({
          kind,
          text,
          ...(level ? { level } : {}),
        }));
        expect(got).toEqual(expectedBlocks(article));
      });
    }

    it(`keeps the page of every block of a ${article.lang} pdf`, async () => {
      const result = ok(await extractDocument(await fixture('pdf', article), 'pdf'));
      expect(result.pages?.map((p) => p.number)).toEqual(article.sections.map((_, i) => i + 1));
      expect(result.pages?.every((p) => p.chars > 0)).toBe(true);
      article.sections.forEach((section, i) => {
        const heading = result.blocks.find((b) => b.text.includes(section.heading));
        expect(heading?.page, section.heading).toBe(i + 1);
      });
      // Paragraphs wrapped over several lines come back as one block each.
      const first = article.sections[0]?.paragraphs[0] ?? '';
      expect(result.blocks.some((b) => b.text === first)).toBe(true);
    });
  }

  it('drops scripts, styles and comments and decodes entities', async () => {
    const html =
      '<p>Fish &amp; chips&nbsp;&mdash; &#x2019;s<script>alert(1)</script><style>p{}</style><!-- no --></p>';
    const result = ok(await extractDocument(new TextEncoder().encode(html), 'html'));
    expect(result.text).toBe('Fish & chips — ’s');
  });

  it('undoes the lam-alef swaps of PDF.js right-to-left runs where they are unmistakable', () => {
    expect(unswapLamAlef('عاد األكسجين، حتى ال يفسر')).toBe('عاد الأكسجين، حتى لا يفسر');
    // The article inside a word is left alone.
    expect(unswapLamAlef('بالماء والهواء')).toBe('بالماء والهواء');
  });

  it('reads HTML in the legacy encoding its meta tag declares (windows-1256 Arabic)', async () => {
    // "مرحبا" in windows-1256, after an ASCII head declaring it.
    const head = new TextEncoder().encode(
      '<html><head><meta charset="windows-1256"></head><body><p>',
    );
    const arabic = [0xe3, 0xd1, 0xcd, 0xc8, 0xc7];
    const tail = new TextEncoder().encode('</p></body></html>');
    const bytes = new Uint8Array([...head, ...arabic, ...tail]);
    const result = ok(await extractDocument(bytes, 'html'));
    expect(result.text).toBe('مرحبا');
    expect(result.language.code).toBe('ar');
  });

  it('reads nested lists with their depth', async () => {
    const html = '<ul><li>one<ul><li>one.a</li></ul></li><li>two</li></ul>';
    const result = ok(await extractDocument(new TextEncoder().encode(html), 'html'));
    expect(result.blocks).toEqual([
      { kind: 'list_item', level: 1, text: 'one' },
      { kind: 'list_item', level: 2, text: 'one.a' },
      { kind: 'list_item', level: 1, text: 'two' },
    ]);
  });

  it('reads DOCX headings by style id when styles.xml is missing, and skips deleted text', async () => {
    const parts = docxParts(ARTICLES[0]);
    delete parts['word/styles.xml'];
    const w = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';
    parts['word/document.xml'] = new TextEncoder().encode(
      `<w:document xmlns:w="${w}"><w:body><w:p><w:pPr><w:pStyle w:val="Heading3"/></w:pPr><w:r><w:t>Intro</w:t></w:r></w:p><w:p><w:r><w:t xml:space="preserve">Kept </w:t></w:r><w:del><w:r><w:delText>gone </w:delText></w:r></w:del><w:ins><w:r><w:t>added</w:t></w:r></w:ins></w:p></w:body></w:document>`,
    );
    const { zipSync } = await import('fflate');
    const result = ok(await extractDocument(zipSync(parts), 'docx'));
    expect(result.blocks).toEqual([
      { kind: 'heading', level: 3, text: 'Intro' },
      { kind: 'paragraph', text: 'Kept added' },
    ]);
  });
});

describe('extractDocument failures', () => {
  const fails = async (bytes: Uint8Array, type: DocumentType, code: string) => {
    const result = await extractDocument(bytes, type);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.code, result.message).toBe(code);
      expect(result.message.length).toBeGreaterThan(10);
    }
    // A failure carries no text: nothing half extracted to store.
    expect('text' in result).toBe(false);
  };

  it('fails an encrypted PDF as encrypted', async () => {
    await fails(encryptedPdf(await pdfFixture(ARTICLES[0])), 'pdf', 'encrypted');
  });

  it('fails a PDF with pages but no text as no_text_layer', async () => {
    await fails(await scannedPdfFixture(), 'pdf', 'no_text_layer');
  });

  it('fails bytes that are not a PDF as corrupt', async () => {
    const garbage = new Uint8Array(4096).map((_, i) => (i * 7919) % 251);
    await fails(garbage, 'pdf', 'corrupt');
    await fails(new TextEncoder().encode('%PDF-1.7\n1 0 obj << /Type /Catalog'), 'pdf', 'corrupt');
  });

  it('fails a PDF over the page cap as too_large', async () => {
    const result = await extractDocument(await pdfFixture(ARTICLES[0]), 'pdf', { maxPages: 2 });
    expect(result).toMatchObject({ ok: false, code: 'too_large' });
  });

  it('fails a truncated DOCX as corrupt', async () => {
    const docx = docxFixture(ARTICLES[1]);
    await fails(docx.slice(0, Math.floor(docx.length * 0.6)), 'docx', 'corrupt');
  });

  it('fails a DOCX whose deflate stream is damaged as corrupt', async () => {
    const docx = docxFixture(ARTICLES[0]);
    const entry = readZipDirectory(docx).get('word/document.xml');
    if (entry === undefined) throw new Error('fixture without document.xml');
    // Flip bits in the middle of document.xml's deflate data: it fails to inflate or its CRC.
    for (const offset of [0.3, 0.5, 0.7]) {
      const damaged = docx.slice();
      const at =
        entry.localHeaderOffset +
        30 +
        'word/document.xml'.length +
        Math.floor(entry.compressedSize * offset);
      for (let i = at; i < at + 4; i++) damaged[i] = (damaged[i] ?? 0) ^ 0x10;
      await fails(damaged, 'docx', 'corrupt');
    }
  });

  it('fails a ZIP that is not a DOCX as corrupt', async () => {
    const { zipSync } = await import('fflate');
    await fails(zipSync({ 'hello.txt': new TextEncoder().encode('hello') }), 'docx', 'corrupt');
  });

  it('stops a decompression bomb that declares its size', async () => {
    await fails(docxBomb(40), 'docx', 'too_large_uncompressed');
  });

  it('stops a decompression bomb whose headers lie about its size, while inflating', async () => {
    const started = Date.now();
    await fails(docxBomb(40, true), 'docx', 'too_large_uncompressed');
    // Stopped at the ratio check after a few MiB, not after inflating 40 MiB.
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('fails invalid UTF-8 text as corrupt and an empty file as unsupported', async () => {
    await fails(new Uint8Array([0x48, 0xc3, 0x28, 0x69]), 'txt', 'corrupt');
    await fails(new Uint8Array(), 'md', 'unsupported');
  });

  it('fails a file over the size cap as too_large and an unknown type as unsupported', async () => {
    const result = await extractDocument(txtFixture(ARTICLES[0]), 'txt', { maxBytes: 100 });
    expect(result).toMatchObject({ ok: false, code: 'too_large' });
    await fails(txtFixture(ARTICLES[0]), 'rtf' as DocumentType, 'unsupported');
  });
});
