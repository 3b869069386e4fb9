import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Chunk, chunkDocument } from '../../../../shared/documents/chunk.ts';
import { extractDocument } from '../../../../shared/documents/extract.ts';
import { type Block, blocksText } from '../../../../shared/documents/types.ts';
import { ARTICLES, docxFixture, pdfFixture } from '../../../helpers/document-fixtures.ts';

/**
 * The invariants every chunking must keep: each chunk is its span of the text and within the
 * size bound; overlaps repeat only the previous chunk's tail; what lies between chunks' fresh
 * parts is white space only, so the chunks minus their overlaps give back the text.
 */
function expectInvariants(
  blocks: Block[],
  chunks: Chunk[],
  maxChars: number,
  overlapChars: number,
) {
  const text = blocksText(blocks);
  let covered = 0;
  let rebuilt = '';
  chunks.forEach((chunk, i) => {
    expect(chunk.index).toBe(i);
    expect(chunk.text).toBe(text.slice(chunk.char_start, chunk.char_end));
    expect(chunk.text.length).toBeLessThanOrEqual(maxChars);
    expect(chunk.text.trim()).toBe(chunk.text);
    expect(chunk.overlap_chars).toBeLessThanOrEqual(overlapChars);
    const previous = chunks[i - 1];
    if (previous !== undefined) {
      expect(chunk.char_start).toBeGreaterThan(previous.char_start);
      expect(chunk.char_end).toBeGreaterThan(previous.char_end);
      expect(chunk.overlap_chars).toBe(Math.max(0, previous.char_end - chunk.char_start));
    } else expect(chunk.overlap_chars).toBe(0);
    const fresh = chunk.char_start + chunk.overlap_chars;
    expect(text.slice(covered, fresh).trim(), `gap before chunk ${i}`).toBe('');
    rebuilt += text.slice(covered, chunk.char_end);
    covered = chunk.char_end;
  });
  expect(text.slice(covered).trim()).toBe('');
  expect(rebuilt + text.slice(covered)).toBe(text);
  // No text lost: the chunks' fresh parts, white space aside, are the text.
  const fresh = chunks.map((c) => c.text.slice(c.overlap_chars)).join('');
  expect(fresh.replace(/\s+/gu, '')).toBe(text.replace(/\s+/gu, ''));
}

const word = fc.oneof(
  fc.constantFrom('the', 'survey', 'water', 'nitrate', 'oxygen', 'bay', 'Arabic', 'chunk'),
  fc.constantFrom('المياه', 'الخليج', 'النترات', 'الأكسجين', 'المسح', 'النهر'),
  fc.string({ minLength: 1, maxLength: 40, unit: fc.constantFrom('a', 'b', 'ب', 'ت', '😀') }),
);
const sentence = fc
  .tuple(
    fc.array(word, { minLength: 1, maxLength: 30 }),
    fc.constantFrom('.', '?', '!', '؟', '۔', '،', ''),
  )
  .map(([words, end]) => words.join(' ') + end);
const block: fc.Arbitrary<Block> = fc.oneof(
  fc.record({
    kind: fc.constant('heading' as const),
    level: fc.integer({ min: 1, max: 4 }),
    text: fc.array(word, { minLength: 1, maxLength: 6 }).map((w) => w.join(' ')),
  }),
  fc.record({
    kind: fc.constantFrom('paragraph' as const, 'list_item' as const),
    text: fc.array(sentence, { minLength: 1, maxLength: 25 }).map((s) => s.join(' ')),
  }),
);
const paged = fc.array(block, { minLength: 1, maxLength: 30 }).chain((blocks) =>
  fc.boolean().map((withPages) => {
    let page = 1;
    return withPages
      ? blocks.map((b, i) => ({ ...b, page: i > 0 && i % 4 === 0 ? ++page : page }))
      : blocks;
  }),
);

describe('chunkDocument', () => {
  it('keeps its invariants for any blocks and bounds', () => {
    fc.assert(
      fc.property(
        paged,
        fc.integer({ min: 100, max: 2000 }),
        fc.integer({ min: 0, max: 400 }),
        (blocks, maxChars, overlap) => {
          const overlapChars = Math.min(overlap, Math.floor(maxChars / 2) - 1);
          const chunks = chunkDocument(blocks, { maxChars, overlapChars });
          expectInvariants(blocks, chunks, maxChars, overlapChars);
          // Deterministic.
          expect(chunkDocument(blocks, { maxChars, overlapChars })).toEqual(chunks);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('starts a chunk at every heading with no overlap, and carries the headings path', () => {
    const blocks: Block[] = [
      { kind: 'heading', level: 1, text: 'Report' },
      { kind: 'heading', level: 2, text: 'Method' },
      { kind: 'paragraph', text: 'We sampled eleven sites.' },
      { kind: 'heading', level: 2, text: 'Results' },
      { kind: 'paragraph', text: 'Nitrate was high near the river.' },
      { kind: 'heading', level: 3, text: 'Oxygen' },
      { kind: 'paragraph', text: 'Oxygen fell in July.' },
    ];
    const chunks = chunkDocument(blocks, { maxChars: 1000, overlapChars: 100 });
    expect(chunks.map((c) => [c.text, c.heading_path, c.overlap_chars])).toEqual([
      ['Report\n\nMethod\n\nWe sampled eleven sites.', ['Report', 'Method'], 0],
      ['Results\n\nNitrate was high near the river.', ['Report', 'Results'], 0],
      ['Oxygen\n\nOxygen fell in July.', ['Report', 'Results', 'Oxygen'], 0],
    ]);
  });

  it('splits a long Arabic paragraph at its sentence ends, with overlap from the previous tail', () => {
    const sentences = Array.from(
      { length: 12 },
      (_, i) => `هذه الجملة رقم ${i + 1} من فقرة طويلة جدا؟`,
    );
    const blocks: Block[] = [{ kind: 'paragraph', text: sentences.join(' ') }];
    const chunks = chunkDocument(blocks, { maxChars: 160, overlapChars: 40 });
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) {
      expect(chunk.text.slice(chunk.overlap_chars).trimEnd()).toMatch(/؟$/);
      expect(chunk.text.length).toBeLessThanOrEqual(160);
    }
    for (const chunk of chunks.slice(1)) {
      expect(chunk.overlap_chars).toBeGreaterThan(0);
      const previous = chunks[chunk.index - 1];
      expect(previous?.text.endsWith(chunk.text.slice(0, chunk.overlap_chars))).toBe(true);
    }
    expectInvariants(blocks, chunks, 160, 40);
  });

  it('falls back to clause breaks (، ,) and then spaces when a sentence is longer than a chunk', () => {
    const clause = 'كلمة أخرى هنا، ';
    const blocks: Block[] = [{ kind: 'paragraph', text: clause.repeat(40).trim() }];
    const chunks = chunkDocument(blocks, { maxChars: 120, overlapChars: 0 });
    for (const chunk of chunks.slice(0, -1)) expect(chunk.text).toMatch(/،$/);
    const spaces: Block[] = [{ kind: 'paragraph', text: 'word '.repeat(200).trim() }];
    for (const chunk of chunkDocument(spaces, { maxChars: 100, overlapChars: 0 }))
      expect(chunk.text).toMatch(/^(word ?)+$/);
  });

  it('gives each chunk of a PDF its pages and each chunk of a DOCX its section', async () => {
    const [english] = ARTICLES;
    const pdf = await extractDocument(await pdfFixture(english), 'pdf');
    if (!pdf.ok) throw new Error(pdf.message);
    const chunks = chunkDocument(pdf.blocks, { maxChars: 400, overlapChars: 60 });
    expectInvariants(pdf.blocks, chunks, 400, 60);
    expect(chunks[0]?.page_start).toBe(1);
    expect(chunks.at(-1)?.page_end).toBe(english.sections.length);
    for (const chunk of chunks) {
      expect(chunk.page_start).not.toBeNull();
      expect(chunk.page_end ?? 0).toBeGreaterThanOrEqual(chunk.page_start ?? 0);
    }
    const docx = await extractDocument(docxFixture(english), 'docx');
    if (!docx.ok) throw new Error(docx.message);
    const sections = chunkDocument(docx.blocks, { maxChars: 2000, overlapChars: 100 });
    expect(sections.map((c) => c.heading_path)).toEqual(
      english.sections.map((s) => [english.title, s.heading]),
    );
    expect(sections.every((c) => c.page_start === null)).toBe(true);
  });
});
