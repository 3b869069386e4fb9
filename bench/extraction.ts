/**
 * Document extraction fidelity and time, in process (no dev server): the fixtures the worker
 * tests generate (tools/documents/fixtures.ts: an English and an Arabic article with
 * headings, paragraphs, a list and a table, as txt, md, html, docx and pdf), plus a long version
 * of each (the sections repeated to 60, a 60-page PDF), extracted by `extractDocument` and
 * scored by character-level similarity to the known text (1 − Levenshtein / length, white space
 * normalised); then `chunkDocument` on the long documents, and how fast the failures fail.
 * Arabic PDFs embed DejaVu Sans from the system (`apt install fonts-dejavu-core`).
 *
 *   npm run bench:extraction        # writes bench/results/extraction.md
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chunkDocument } from '../shared/documents/chunk.ts';
import { extractDocument } from '../shared/documents/extract.ts';
import type { DocumentType } from '../shared/documents/types.ts';
import {
  ARTICLES,
  type Article,
  docxBomb,
  docxFixture,
  encryptedPdf,
  expectedText,
  fixtureOf,
  pdfFixture,
  scannedPdfFixture,
  similarity,
} from '../tools/documents/fixtures.ts';

const ROOT = join(import.meta.dirname, '..');
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const TYPES: DocumentType[] = ['txt', 'md', 'html', 'docx', 'pdf'];
const RUNS = 5;
const LONG_SECTIONS = 60;

const font = await readFile(FONT).then(
  (bytes) => new Uint8Array(bytes),
  () => undefined,
);

/** The article with its sections repeated (numbered) to `count`: one PDF page each. */
const long = (article: Article): Article => ({
  ...article,
  sections: Array.from({ length: LONG_SECTIONS }, (_, i) => {
    const section = article.sections[i % article.sections.length];
    if (section === undefined) throw new Error('an article without sections');
    return { ...section, heading: `${section.heading} ${i + 1}` };
  }),
});

async function fixture(type: DocumentType, article: Article): Promise<Uint8Array | undefined> {
  return type === 'pdf' && article.lang === 'ar' && font === undefined
    ? undefined
    : fixtureOf(type, article, font);
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

async function time<T>(run: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await run();
  return { result, ms: performance.now() - started };
}

type Row = {
  doc: string;
  lang: string;
  type: string;
  bytes: number;
  chars: number;
  fidelity: number;
  language: string;
  ms: number;
};
const rows: Row[] = [];
const gaps: string[] = [];

for (const [label, variant] of [
  ['article', (a: Article) => a],
  ['long', long],
] as const) {
  for (const base of ARTICLES) {
    const article = variant(base);
    for (const type of TYPES) {
      const bytes = await fixture(type, article);
      if (bytes === undefined) {
        gaps.push(`${label} ${article.lang} ${type}: no Arabic font at ${FONT}, not measured`);
        continue;
      }
      const times: number[] = [];
      let last: Awaited<ReturnType<typeof extractDocument>> | undefined;
      for (let run = 0; run < RUNS; run++) {
        const { result, ms } = await time(() => extractDocument(bytes, type));
        times.push(ms);
        last = result;
      }
      if (!last?.ok)
        throw new Error(`${label} ${article.lang} ${type} failed: ${last?.code}: ${last?.message}`);
      rows.push({
        doc: label,
        lang: article.lang,
        type,
        bytes: bytes.length,
        chars: last.text.length,
        fidelity: similarity(last.text, expectedText(article)),
        language: `${last.language.code}/${last.language.script} ${last.language.confidence}`,
        ms: median(times),
      });
      console.log(
        `${label} ${article.lang} ${type}: ${rows.at(-1)?.fidelity.toFixed(4)} in ${median(times).toFixed(1)} ms`,
      );
    }
  }
}

// Chunking the long documents.
const chunkRows: string[] = [];
for (const base of ARTICLES) {
  for (const type of ['docx', 'pdf'] as const) {
    const bytes = await fixture(type, long(base));
    if (bytes === undefined) continue;
    const extracted = await extractDocument(bytes, type);
    if (!extracted.ok) continue;
    const { result: chunks, ms } = await time(async () =>
      chunkDocument(extracted.blocks, { maxChars: 1200, overlapChars: 150 }),
    );
    const sizes = chunks.map((c) => c.text.length);
    chunkRows.push(
      `| ${base.lang} | ${type} | ${extracted.text.length} | ${chunks.length} | ${median(sizes)} | ${Math.max(...sizes)} | ${(chunks.reduce((n, c) => n + c.overlap_chars, 0) / chunks.length).toFixed(0)} | ${ms.toFixed(1)} |`,
    );
  }
}

// Failures: code and how long it takes to fail.
const failureRows: string[] = [];
const english = ARTICLES[0];
const failures: [string, DocumentType, () => Promise<Uint8Array>][] = [
  [
    'encrypted PDF (RC4, no matching password)',
    'pdf',
    async () => encryptedPdf(await pdfFixture(english)),
  ],
  ['scanned PDF (2 pages, no text)', 'pdf', scannedPdfFixture],
  [
    'garbage bytes as PDF',
    'pdf',
    async () => new Uint8Array(65_536).map((_, i) => (i * 7919) % 251),
  ],
  [
    'truncated DOCX (60%)',
    'docx',
    async () => docxFixture(english).slice(0, Math.floor(docxFixture(english).length * 0.6)),
  ],
  ['DOCX bomb, 64 MiB declared', 'docx', async () => docxBomb(64)],
  ['DOCX bomb, 64 MiB, headers say 1 KiB', 'docx', async () => docxBomb(64, true)],
];
for (const [name, type, build] of failures) {
  const bytes = await build();
  const { result, ms } = await time(() => extractDocument(bytes, type));
  failureRows.push(
    `| ${name} | ${bytes.length} | ${result.ok ? 'extracted (!)' : result.code} | ${ms.toFixed(1)} |`,
  );
}

const min = (type: string) =>
  Math.min(...rows.filter((r) => r.type === type).map((r) => r.fidelity));
const report = `# Document extraction: fidelity and time

\`npm run bench:extraction\` on ${new Date().toISOString().slice(0, 10)}, in process (Node ${process.version}): fixtures generated from known text (test/helpers/document-fixtures.ts: an English and an Arabic article, a title, three sections with headings, paragraphs, a three-item list and a four-row table; "long" repeats the sections to ${LONG_SECTIONS}, one PDF page each), extracted by \`extractDocument\`, median of ${RUNS} runs. Fidelity: character-level similarity to the known text, 1 − Levenshtein distance / the longer length, after white space is collapsed; goal ≥ 0.98. Arabic PDFs embed DejaVu Sans (fontkit shapes it and lays it right to left; PDF.js's bidi pass gives it back in logical order).

## Fidelity and extraction time

| document | language | type | bytes | characters | fidelity | detected language (code/script confidence) | ms (median) |
| --- | --- | --- | ---: | ---: | ---: | --- | ---: |
${rows.map((r) => `| ${r.doc} | ${r.lang} | ${r.type} | ${r.bytes} | ${r.chars} | ${r.fidelity.toFixed(4)} | ${r.language} | ${r.ms.toFixed(1)} |`).join('\n')}

Lowest fidelity per type: ${TYPES.map((t) => `${t} ${min(t).toFixed(4)}`).join(', ')}.
${gaps.length > 0 ? `\nNot measured: ${gaps.join('; ')}.\n` : ''}
## Chunking the long documents (maxChars 1200, overlapChars 150)

| language | type | characters | chunks | median size | largest | mean overlap | ms |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |
${chunkRows.join('\n')}

## Failures

| file | bytes | result | ms |
| --- | ---: | --- | ---: |
${failureRows.join('\n')}

Times are Node's, on the bench machine; in a Worker the same code runs in workerd (the tests run it there), where CPU time counts against the invocation's limit.
`;
await writeFile(join(ROOT, 'bench/results/extraction.md'), report);
console.log(report);
